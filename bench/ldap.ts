/**
 * 2FA logins with LDAP as the first factor, beside the same logins with the local users, in one run
 * (issue #13). radclient (freeradius-utils) sends SCRV1 Access-Requests with 100 in flight to a
 * `nas … 2fa` entry; every code is valid and distinct (single use is on): USERS HOTP users × CODES
 * consecutive counters, each user's codes USERS requests apart.
 *  - LDAP: `aaa authentication openvpn default group ldap 2fa`, one slapd started here (Debian slapd,
 *    test/helpers/slapd.ts) with the users added to the test directory; every login is a new
 *    connection, a bind as the reader, a search, a bind as the user (SPEC §14 search-then-bind). Once
 *    over plain LDAP and once over LDAPS.
 *  - local users: the same users in the local RADIUS server's table (crypt(3) hashes, each verified
 *    once and then remembered, as src/auth/local-users.ts does).
 * Each path is warmed up with its own codes first.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { App } from '../src/app.ts';
import { base32Decode, hotp } from '../src/twofa/otp.ts';
import { hashPassword } from '../src/util/crypt.ts';
import { BASE_DN, READER_DN, READER_PASSWORD, startSlapd } from '../test/helpers/slapd.ts';
import { peer } from '../test/helpers/peers.ts';
import { freeUdpPort } from '../test/helpers/ports.ts';
import { scrv1 } from './load.ts';

const USERS = 500;
const CODES = 6;
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const KEY = base32Decode(SECRET)!;
const quiet = { info() {}, error() {} };

const user = (i: number) => `lb${i}`;
const entry = (name: string, password: string) => `User-Name = "${name}"\nUser-Password = "${password}"\nMessage-Authenticator = 0x00\n`;

/** radclient over a request file; returns wall time and the Accepted count. */
async function radclient(file: string, port: number): Promise<{ seconds: number; accepted: number; out: string }> {
  const t0 = performance.now();
  const child = spawn(peer('radclient'), ['-q', '-s', '-t', '10', '-r', '1', '-p', '100', '-f', file, `127.0.0.1:${port}`, 'auth', 'benchsecret']);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await new Promise((r) => child.on('close', r));
  return { seconds: (performance.now() - t0) / 1000, accepted: Number(/Accepted\s*:\s*(\d+)/.exec(out)?.[1] ?? 0), out };
}


/** Counters `first … first+CODES-1` for every user, in rounds (a user's next code after its previous one). */
function loadFile(dir: string, name: string, first: number): string {
  const lines: string[] = [];
  for (let c = first; c < first + CODES; c++) for (let u = 0; u < USERS; u++) lines.push(entry(user(u), scrv1('benchpw', hotp(KEY, c))));
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n'));
  return file;
}

export async function runLdapBench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'awplus-bench-ldap-'));
  const people = Array.from({ length: USERS }, (_, i) => `dn: uid=${user(i)},ou=people,${BASE_DN}\nobjectClass: inetOrgPerson\nuid: ${user(i)}\ncn: ${user(i)}\nsn: B\nmail: ${user(i)}@example.test\nuserPassword: benchpw\n`);
  const slapd = await startSlapd({ extraLdif: people.join('\n') });
  const app = await App.start({ flash: join(dir, 'flash'), log: quiet });
  const port = await freeUdpPort();
  try {
    writeFileSync(join(dir, 'flash', 'ldap-ca.pem'), slapd.ca);
    const s = app.openSession({ source: 'test', user: 'bench', userPrivilege: 15, enabled: true, location: 'bench' });
    const lines = [
      'conf t',
      'service 2fa',
      'radius-server local',
      `server auth-port ${port}`,
      'nas 127.0.0.1 key benchsecret 2fa',
      'server enable',
      'exit',
      'ldap-server bench',
      'host 127.0.0.1',
      `port ${slapd.ldapPort}`,
      `base-dn ${BASE_DN}`,
      `bind-dn ${READER_DN} password ${READER_PASSWORD}`,
      'exit',
      'end',
    ];
    for (const line of lines) {
      const { output } = await s.execute(line);
      if (output.includes('%')) throw new Error(`${line}: ${output}`);
    }
    const hash = hashPassword('benchpw');
    app.config.update((c) => {
      for (let i = 0; i < USERS; i++) c.radius.local.users.set(user(i), hash);
    });
    for (let i = 0; i < USERS; i++) await app.twofa.createUser(user(i), { secret: SECRET, hotp: true });

    const total = USERS * CODES;
    let counter = 1;
    /** One radclient run over the next CODES counters of every user; all must be accepted. */
    const run = async (what: string) => {
      const r = await radclient(loadFile(dir, `${what}.txt`, counter), port);
      counter += CODES;
      if (r.accepted !== total) throw new Error(`${what}: accepted ${r.accepted} of ${total}: ${r.out}`);
      return r;
    };
    const configure = async (...commands: string[]) => {
      for (const line of ['conf t', ...commands, 'end']) {
        const { output } = await s.execute(line);
        if (output.includes('%')) throw new Error(`${line}: ${output}`);
      }
    };

    // Each path warmed up first (the JIT, the user store's cache, the local users' verified-password
    // cache, slapd's caches), as a day of logins would have them.
    await configure('no aaa authentication openvpn default');
    await run('local-warm');
    const local = await run('local');
    await configure('aaa authentication openvpn default group ldap 2fa');
    await run('ldap-warm');
    const ldap = await run('ldap');
    await configure('ldap-server bench', 'secure ldaps', `port ${slapd.ldapsPort}`, 'ca-certificate flash:/ldap-ca.pem');
    const ldaps = await run('ldaps');
    // Every LDAP login reached slapd and was accepted there.
    if (app.ldap.statistics.of('bench').accepts !== 3 * total) throw new Error(`slapd accepted ${app.ldap.statistics.of('bench').accepts} of ${3 * total}`);

    const rate = (r: { seconds: number }) => total / r.seconds;
    const row = (what: string, r: { seconds: number }) =>
      `| RADIUS 2FA logins (PAP + HOTP via SCRV1), first factor ${what}, ${total} Access-Requests, radclient -p 100 | ${rate(r).toFixed(0)} logins/s | local users ${rate(local).toFixed(0)} logins/s | LDAP/local = ${(rate(r) / rate(local)).toFixed(2)}× |`;
    return [row('LDAP (slapd, search-then-bind, new connection per login)', ldap), row('LDAPS (slapd, TLS handshake per login)', ldaps)];
  } finally {
    await app.stop();
    await slapd.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
