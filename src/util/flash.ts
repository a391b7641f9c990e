/**
 * The flash file system: a directory on the host. `flash:/NAME` in commands means `DIR/NAME` (SPEC §2).
 * Names are flat (no sub-directories) so no command can reach outside the directory; dot-files are
 * internal (store, keys, sockets) and not listed by `dir`.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, statfsSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One file as `dir` shows it. */
export interface FlashEntry {
  readonly name: string;
  readonly size: number;
  readonly modified: Date;
}

/** `flash:/x.cfg`, `flash:x.cfg` or `x.cfg` → `x.cfg`; undefined when not a valid flat name. */
export function flashName(spec: string): string | undefined {
  const name = spec.replace(/^flash:\/?/i, '');
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/.test(name)) return undefined;
  return name;
}

/** The flash directory is open to other users and cannot be made private: the appliance refuses it. */
export class FlashPermissionError extends Error {
  constructor(dir: string, mode: number, why: string) {
    super(`flash directory ${dir} is open to other users (mode ${mode.toString(8).padStart(4, '0')}) and ${why}; it holds the 2FA secrets: run chmod 700 ${dir}, or use another directory`);
    this.name = 'FlashPermissionError';
  }
}

/** Names only an appliance's flash holds: a directory with one of them (or nothing) is ours to tighten. */
const FLASH_MARKERS = ['.lock', '.boot', '.2fa-users', '.2fa.key', '.config.key', '.ssh_host_ed25519_key', 'default.cfg'];

/** The flash directory of one appliance. */
export class Flash {
  readonly dir: string;
  /** The mode the directory had when it was found open to others and made owner-only (for the log). */
  readonly tightenedFrom: number | undefined;

  constructor(dir: string) {
    this.dir = resolve(dir);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.tightenedFrom = this.makePrivate();
  }

  /**
   * The flash holds the store's secrets, the keys and the host keys: other users must not even list it
   * (mkdir's mode is ignored for a directory that already exists). An open directory of ours that is
   * empty (a fresh mount point) or already an appliance's flash is made owner-only; one we do not own, or
   * one that clearly is not a flash directory (other files in it: /tmp, a home directory, `/`), is
   * refused, never chmod-ed under its owner's feet.
   * @returns the old mode when it was tightened.
   */
  private makePrivate(): number | undefined {
    const st = statSync(this.dir);
    const mode = st.mode & 0o7777;
    if ((mode & 0o077) === 0) return undefined;
    if (process.getuid && st.uid !== process.getuid()) throw new FlashPermissionError(this.dir, mode, `belongs to another user (uid ${st.uid})`);
    const names = readdirSync(this.dir);
    if (names.length > 0 && !names.some((n) => FLASH_MARKERS.includes(n))) throw new FlashPermissionError(this.dir, mode, 'holds files that are not an appliance\'s');
    chmodSync(this.dir, 0o700);
    return mode;
  }

  /** Host path of a flash file (internal dot-files included). */
  path(name: string): string {
    return join(this.dir, name);
  }

  exists(name: string): boolean {
    try {
      return statSync(this.path(name)).isFile();
    } catch {
      return false;
    }
  }

  read(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }

  readBytes(name: string): Buffer {
    return readFileSync(this.path(name));
  }

  /**
   * Replaces a file atomically and durably: write a temp file, fsync, rename (a crash leaves old or new).
   * A failed write (a full flash: ENOSPC) removes its temp file, so a failure leaves nothing behind.
   */
  write(name: string, data: string | Uint8Array, mode = 0o600): void {
    const tmp = this.path(`.${name}.tmp-${process.pid}`);
    const fd = openSync(tmp, 'w', mode);
    try {
      try {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        // writeSync may write less than asked (a nearly full file system): loop until all is written.
        for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path(name));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  delete(name: string): void {
    rmSync(this.path(name));
  }

  /** Visible files (no dot-files), sorted by name. */
  list(): FlashEntry[] {
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((d) => d.isFile() && !d.name.startsWith('.'))
      .map((d) => {
        const st = statSync(this.path(d.name));
        return { name: d.name, size: st.size, modified: st.mtime };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Bytes used here (the internal stores and logs included), and the host file system's size and free space. */
  usage(): { used: number; free: number; total: number } {
    const bytes = (dir: string): number =>
      readdirSync(dir, { withFileTypes: true }).reduce((n, d) => n + (d.isDirectory() ? bytes(join(dir, d.name)) : d.isFile() ? statSync(join(dir, d.name)).size : 0), 0);
    const used = bytes(this.dir);
    const fs = statfsSync(this.dir);
    return { used, free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
  }
}
