/**
 * Users' first logins of the day against local users (crypt(3) `$6$` hashes, a few milliseconds of CPU
 * each; later logins of the same user and password are remembered): what they cost, and whether they
 * delay everyone else's logins. Through RADIUS, `awplus --daemon` as deployed (daemon.ts), PAP + HOTP
 * (SCRV1) for a `nas … 2fa` entry:
 *  - other users' logins (passwords already checked once) one at a time, alone and while first logins
 *    arrive at FIRST_PER_SECOND;
 *  - first logins as fast as radclient sends them, side by side with FreeRADIUS 3.2 checking the same
 *    `$6$` hashes (Crypt-Password: FreeRADIUS runs crypt(3) on every login, one at a time under a mutex).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../src/app.ts';
import { base32Decode, hotp } from '../src/twofa/otp.ts';
import { hashPassword } from '../src/util/crypt.ts';
import { startFreeradius } from '../test/helpers/freeradius.ts';
import { startOurDaemon } from './daemon.ts';
import { IN_FLIGHT, pacedRequests, percentile, probeLatency, RADCLIENTS, radclientEntry, radclientLoad, scrv1 } from './load.ts';

/** Users whose password was checked once already: the others, whose latency is measured. */
const STEADY = 1000;
const FIRST_PER_SECOND = 100;
const PACED_SECONDS = 4;
/** First logins sent as fast as radclient can, per server. */
const BURST = 1000;
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const KEY = base32Decode(SECRET)!;
const PASSWORD = 'benchpw';
const OURS = 21832;
const FR = 21833;
const quiet = { info() {}, error() {} };

/** PAP + HOTP in one password field, the user's `counter`th code. */
const login = (counter: number) => scrv1(PASSWORD, hotp(KEY, counter));
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const ms = (sorted: readonly number[]) => `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms`;

export async function runFirstFactorBench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'awplus-bench-first-'));
  const steady = names('s', STEADY);
  const paced = names('m', FIRST_PER_SECOND * PACED_SECONDS);
  const burst = names('b', BURST);
  const everyone = [...steady, ...paced, ...burst];
  // One hash for all: each user's first check costs a full crypt(3) all the same.
  const hash = hashPassword(PASSWORD);
  try {
    const app = await App.start({ flash: join(dir, 'flash'), log: quiet });
    const s = app.openSession({ source: 'test', user: 'bench', userPrivilege: 15, enabled: true, location: 'bench' });
    for (const line of ['conf t', 'service 2fa', 'radius-server local', `server auth-port ${OURS}`, 'nas 127.0.0.1 key benchsecret 2fa', 'server enable', 'end']) {
      const r = await s.execute(line);
      if (!r.ok) throw new Error(`${line}: ${r.output}`);
    }
    app.config.update((c) => {
      for (const u of everyone) c.radius.local.users.set(u, hash);
    });
    await s.execute('write memory');
    for (const u of everyone) await app.twofa.createUser(u, { secret: SECRET, hotp: true });
    await app.stop();

    const daemon = await startOurDaemon(join(dir, 'flash'), join(dir, 'awplus.log'));
    let alone: number[], during: number[], first: Awaited<ReturnType<typeof pacedRequests>>, ours: Awaited<ReturnType<typeof radclientLoad>>;
    try {
      // The steady users' first logins (counter 1), unmeasured: from now on their passwords are known.
      const w = await radclientLoad(dir, [OURS], 'benchsecret', steady.map((u) => radclientEntry(u, login(1))));
      if (w.accepted !== STEADY) throw new Error(`first logins accepted ${w.accepted} of ${STEADY}: ${w.out}`);
      // Their next logins, one at a time, the users in turn, each with its next code when it is sent.
      const counters = new Map(steady.map((u) => [u, 1]));
      const nextCode = (u: string) => {
        counters.set(u, counters.get(u)! + 1);
        return login(counters.get(u)!);
      };
      const steadyLogins = (n: number) =>
        Array.from({ length: n }, (_, k) => steady[k % STEADY]!).map((user) => ({ user, password: () => nextCode(user) }));
      const timer = (msecs: number) => new Promise((r) => setTimeout(r, msecs));
      alone = await probeLatency(OURS, 'benchsecret', steadyLogins(20_000), timer(2000));
      const firsts = pacedRequests(OURS, 'benchsecret', paced.map((u) => ({ user: u, password: login(1) })), FIRST_PER_SECOND);
      [during, first] = await Promise.all([probeLatency(OURS, 'benchsecret', steadyLogins(40_000), firsts), firsts]);
      if (first.accepted !== paced.length) throw new Error(`paced first logins accepted ${first.accepted} of ${paced.length} (${first.unanswered} unanswered)`);
      ours = await radclientLoad(dir, [OURS], 'benchsecret', burst.map((u) => radclientEntry(u, login(1))));
      if (ours.accepted !== BURST) throw new Error(`ours accepted ${ours.accepted} of ${BURST} first logins: ${ours.out}`);
    } finally {
      await daemon.stop();
    }

    const frUsers = [...burst, 'warm'].map((u) => `${u}\tCrypt-Password := "${hash}"`).join('\n') + '\n';
    const fr = await startFreeradius(FR, FR + 100, { users: frUsers, threaded: true });
    let theirs: Awaited<ReturnType<typeof radclientLoad>>;
    try {
      // One login first, alone: FreeRADIUS creates the mutex it runs crypt(3) under at its first check
      // (src/main/crypt.c, not thread-safe), and checks racing that refused right passwords here.
      await probeLatency(FR, 'upstreamsecret', [{ user: 'warm', password: () => PASSWORD }]);
      theirs = await radclientLoad(dir, [FR], 'upstreamsecret', burst.map((u) => radclientEntry(u, PASSWORD)));
    } finally {
      await fr.stop();
    }
    if (theirs.accepted !== BURST) throw new Error(`FreeRADIUS accepted ${theirs.accepted} of ${BURST}: ${theirs.out}`);

    const oursRate = BURST / ours.seconds;
    const theirRate = BURST / theirs.seconds;
    return [
      `| other users' logins (PAP + HOTP, password known), one at a time, during ${FIRST_PER_SECOND} first logins/s (crypt(3) $6$ each) | alone ${ms(alone)} (${alone.length}); during ${ms(during)} (${during.length}); the first logins ${ms(first.times)} | — | — |`,
      `| first logins (crypt(3) $6$), ${BURST} users, radclient ×${RADCLIENTS} (${IN_FLIGHT} in flight); FreeRADIUS: Crypt-Password, PAP only | ${oursRate.toFixed(0)}/s | FreeRADIUS 3.2 -f ${theirRate.toFixed(0)}/s | ours/FreeRADIUS = ${(oursRate / theirRate).toFixed(2)}× |`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
