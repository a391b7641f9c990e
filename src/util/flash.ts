/**
 * The flash file system: a directory on the host. `flash:/NAME` in commands means `DIR/NAME` (SPEC §2).
 * Names are flat (no sub-directories) so no command can reach outside the directory; dot-files are
 * internal (store, keys, sockets) and not listed by `dir`.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, statfsSync, writeSync } from 'node:fs';
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

/** The flash directory of one appliance. */
export class Flash {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
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

  /** Replaces a file atomically and durably: write a temp file, fsync, rename (a crash leaves old or new). */
  write(name: string, data: string | Uint8Array, mode = 0o600): void {
    const tmp = this.path(`.${name}.tmp-${process.pid}`);
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path(name));
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

  /** Bytes used by the files here, and the host file system's size and free space. */
  usage(): { used: number; free: number; total: number } {
    let used = 0;
    for (const d of readdirSync(this.dir, { withFileTypes: true })) if (d.isFile()) used += statSync(this.path(d.name)).size;
    const fs = statfsSync(this.dir);
    return { used, free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
  }
}
