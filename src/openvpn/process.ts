/**
 * Starting Debian's `openvpn` as a child that cannot outlive the appliance, and the checks that
 * say clearly what is missing before trying.
 *
 * The child runs under util-linux `setpriv --pdeathsig SIGKILL -- openvpn …`: setpriv sets
 * PR_SET_PDEATHSIG (prctl(2)) and execs openvpn in the same process, so the kernel kills openvpn
 * when the appliance's thread that forked it ends — also after `kill -9` of the appliance, when no
 * code of ours runs. libuv forks children from the event-loop (main) thread, which lives as long
 * as the Node process. The death signal survives execve(2) of a binary that is not set-user-ID.
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

/** The running child: no stdin (openvpn must never wait for a typed answer), output piped. */
export type OpenvpnChild = ChildProcessByStdio<null, Readable, Readable>;

export interface Binaries {
  readonly openvpn: string;
  readonly setpriv: string;
}

export interface PreflightOptions {
  /** Name or path of the openvpn binary [openvpn]. */
  readonly openvpnPath?: string;
  /** Name or path of util-linux setpriv [setpriv]. */
  readonly setprivPath?: string;
  /** The TUN/TAP clone device [/dev/net/tun]. */
  readonly tunDevice?: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds a program like the shell would; also in the sbin directories, which a non-root PATH lacks
 * while Debian installs openvpn in /usr/sbin. */
export function findProgram(name: string): string | undefined {
  if (isAbsolute(name) || name.includes('/')) return executable(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    const p = join(d, name);
    if (executable(p)) return p;
  }
  return undefined;
}

/** The programs to run, or a message that names what is missing and the Debian package that has it. */
export function preflight(o: PreflightOptions = {}): Binaries | string {
  const openvpn = findProgram(o.openvpnPath ?? 'openvpn');
  if (!openvpn) return `the openvpn program (${o.openvpnPath ?? 'openvpn'}) is not installed: install the Debian package "openvpn" (apt-get install openvpn)`;
  const setpriv = findProgram(o.setprivPath ?? 'setpriv');
  if (!setpriv) return `the setpriv program (${o.setprivPath ?? 'setpriv'}) is missing: install the Debian package "util-linux"`;
  const tun = o.tunDevice ?? '/dev/net/tun';
  if (!existsSync(tun)) {
    return `${tun} is missing: the OpenVPN server needs the kernel TUN/TAP driver (modprobe tun; in a container, pass the device with --device /dev/net/tun)`;
  }
  return { openvpn, setpriv };
}

/** Runs `openvpn ARGS` so it dies with this process (see the file comment). */
export function spawnOpenvpn(bin: Binaries, args: readonly string[], cwd: string): OpenvpnChild {
  return spawn(bin.setpriv, ['--pdeathsig', 'SIGKILL', '--', bin.openvpn, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // No shell, no inherited secrets: openvpn needs nothing from our environment but PATH (it runs
    // `ip` to configure the device).
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
  });
}

/**
 * Writes a new auth-gen-token HMAC secret to `path` (0600). `openvpn --genkey auth-token` writes
 * the PEM format openvpn reads back (crypto.c write_pem_key_file), so the format is never guessed.
 */
export async function generateTokenSecret(bin: Binaries, path: string): Promise<void> {
  await promisify(execFile)(bin.openvpn, ['--genkey', 'auth-token', path], { timeout: 10_000, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } });
  chmodSync(path, 0o600);
}
