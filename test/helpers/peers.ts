/**
 * Real peers are Debian programs: a test that needs one fails at once, naming the package to install,
 * instead of an ENOENT later (an uncaught `spawn radclient ENOENT`, or a run that waits for minutes).
 * Every test and helper starts a peer through `peer(NAME)` (test/architecture.test.ts checks that no
 * test spawns a literal program name any other way); `.ci/run` installs the same packages.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Each program a test runs, and the Debian package that has it. */
export const PEERS = {
  radclient: 'freeradius-utils',
  freeradius: 'freeradius',
  ssh: 'openssh-client',
  openvpn: 'openvpn',
  slapd: 'slapd',
  slapadd: 'slapd',
  chromium: 'chromium',
  zbarimg: 'zbar-tools',
  chronyd: 'chrony',
  rsyslogd: 'rsyslog',
  openssl: 'openssl',
  script: 'bsdutils',
  setsid: 'util-linux',
  setpriv: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  sh: 'dash',
  npx: 'npm',
  nice: 'coreutils',
} as const;

export type Peer = keyof typeof PEERS;

const found = new Map<string, string | undefined>();

function locate(binary: string): string | undefined {
  if (binary.startsWith('/')) return existsSync(binary) ? binary : undefined;
  try {
    return execFileSync('sh', ['-c', 'command -v "$0"', binary], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    // Debian keeps daemons in /usr/sbin, which is not on every user's PATH.
    for (const dir of ['/usr/sbin', '/sbin']) if (existsSync(`${dir}/${binary}`)) return `${dir}/${binary}`;
    return undefined;
  }
}

/** Throws unless `binary` is installed (on PATH, in /usr/sbin, or an absolute path that exists). */
export function requireBinary(binary: string, debianPackage: string): string {
  if (!found.has(binary)) found.set(binary, locate(binary));
  const path = found.get(binary);
  if (!path) throw new Error(`${binary} is not installed: apt-get install ${debianPackage}`);
  return path;
}

/** The path of a peer program; throws at once, naming its Debian package, when it is missing. */
export function peer(name: Peer): string {
  return requireBinary(name, PEERS[name]);
}

/** Whether a peer is installed (for a test that skips, with a message, rather than fails). */
export function hasPeer(name: Peer): boolean {
  try {
    peer(name);
    return true;
  } catch {
    return false;
  }
}
