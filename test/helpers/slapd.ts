/**
 * A real OpenLDAP server (Debian `slapd`) for the LDAP first-factor tests: its own slapd.conf and mdb
 * database in a temporary directory (loaded offline with slapadd before start), a CA and a server
 * certificate made here, plain LDAP (with StartTLS) and LDAPS on free loopback ports. Never a system
 * service. Every wait is bounded; the process is stopped by its PID (recipe: shared/research/wave2.md §B).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { certificateAuthority, issue } from '../../src/util/x509.ts';
import { hasPeer, peer } from './peers.ts';
import { freePort } from './ports.ts';

const FIXTURES = new URL('../../fixtures/slapd/', import.meta.url).pathname;

export const BASE_DN = 'dc=example,dc=test';
export const READER_DN = 'cn=reader,dc=example,dc=test';
export const READER_PASSWORD = 'readerpw';
export { freePort };


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Slapd {
  readonly ldapPort: number;
  readonly ldapsPort: number;
  /** PEM of the CA that signed the server certificate (DNS localhost, IP 127.0.0.1). */
  readonly ca: string;
  /** PEM of another CA, which did not sign anything slapd shows. */
  readonly wrongCa: string;
  /** Whether slapd is running now. */
  readonly running: boolean;
  /** Stops slapd (SIGTERM by PID, SIGKILL after 5 s); the database stays. */
  stop(): Promise<void>;
  /** Starts it again on the same ports. */
  start(): Promise<void>;
  /**
   * Freezes it (SIGSTOP): the kernel still accepts connections on its ports, but nothing answers —
   * a server that hangs, as opposed to one that is gone. `thaw` (SIGCONT) lets it go on.
   */
  freeze(): void;
  thaw(): void;
  /** Stops it and removes its directory. Safe to call twice. */
  close(): Promise<void>;
}

/** Makes a directory, loads fixtures/slapd/seed.ldif (and `extraLdif`, more entries) and starts slapd. */
export async function startSlapd(o: { extraLdif?: string } = {}): Promise<Slapd> {
  const slapd = peer('slapd');
  const slapadd = peer('slapadd');
  const setpriv = hasPeer('setpriv') ? peer('setpriv') : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'awplus-slapd-'));
  let child: ChildProcess | undefined;
  try {
    mkdirSync(join(dir, 'db'));
    const now = Date.now();
    const ca = await certificateAuthority({ commonName: 'awplus test LDAP CA', now, days: 2 });
    const wrongCa = await certificateAuthority({ commonName: 'awplus test LDAP CA', now, days: 2 });
    const server = await issue(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now, days: 2 }, 'server');
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'server.crt'), server.cert);
    writeFileSync(join(dir, 'server.key'), server.key, { mode: 0o600 });
    const conf = join(dir, 'slapd.conf');
    writeFileSync(conf, readFileSync(join(FIXTURES, 'slapd.conf'), 'utf8').replaceAll('@DIR@', dir));
    const ldif = join(dir, 'load.ldif');
    writeFileSync(ldif, readFileSync(join(FIXTURES, 'seed.ldif'), 'utf8') + (o.extraLdif ? `\n${o.extraLdif}` : ''));
    const load = spawnSync(slapadd, ['-f', conf, '-l', ldif], { encoding: 'utf8', timeout: 60000 });
    if (load.status !== 0) throw new Error(`slapadd failed (${load.status ?? load.signal}): ${load.stderr}`);

    const ldapPort = await freePort();
    const ldapsPort = await freePort();
    let output = '';

    const start = async () => {
      if (child) return;
      output = '';
      const args = ['-f', conf, '-d', '0', '-h', `ldap://127.0.0.1:${ldapPort}/ ldaps://127.0.0.1:${ldapsPort}/`];
      // setpriv (util-linux) makes the kernel stop slapd when this process dies, even by SIGKILL, where
      // no after-hook runs; it then execs slapd, so the PID is slapd's.
      const c = setpriv ? spawn(setpriv, ['--pdeathsig', 'TERM', slapd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(slapd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stdout!.on('data', (d) => (output += d));
      c.stderr!.on('data', (d) => (output += d));
      c.once('exit', () => {
        if (child === c) child = undefined;
      });
      // Ready when the reader can bind (bounded: 10 s), or failed when slapd exits first.
      const until = Date.now() + 10000;
      for (;;) {
        if (child !== c) throw new Error(`slapd exited at start:\n${output}`);
        const probe = new Client({ url: `ldap://127.0.0.1:${ldapPort}`, connectTimeout: 500, timeout: 500 });
        try {
          await probe.bind(READER_DN, READER_PASSWORD);
          return;
        } catch {
          if (Date.now() > until) {
            await stop();
            throw new Error(`slapd did not answer within 10 s:\n${output}`);
          }
          await sleep(50);
        } finally {
          await probe.unbind().catch(() => {});
        }
      }
    };

    const stop = async () => {
      const c = child;
      if (!c) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGCONT'); // a frozen slapd would keep SIGTERM pending
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    };

    await start();
    return {
      ldapPort,
      ldapsPort,
      ca: ca.cert,
      wrongCa: wrongCa.cert,
      get running() {
        return child !== undefined;
      },
      start,
      stop,
      freeze: () => void child?.kill('SIGSTOP'),
      thaw: () => void child?.kill('SIGCONT'),
      async close() {
        await stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
