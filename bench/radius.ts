/**
 * RADIUS throughput side by side with FreeRADIUS in the same run (issue #8, SPEC §12), both driven by
 * radclient (freeradius-utils) with 100 requests in flight:
 *  - ours: PAP + second factor (SCRV1) for a `nas … 2fa` entry, local users as the first factor,
 *    every code valid and distinct (single use is on): 1 000 HOTP users × 20 consecutive counters,
 *    ordered so a user's next code is sent only after its previous one was answered;
 *  - FreeRADIUS 3.2 (threaded, -f): PAP only from a users file, the same number of requests.
 * Both run as deployed, each in its own process with its log in a file (ours: daemon.ts).
 * Latency: a probe sends requests one at a time while each load runs and records every round trip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../src/app.ts';
import { base32Decode, hotp } from '../src/twofa/otp.ts';
import { hashPassword } from '../src/util/crypt.ts';
import { startFreeradius } from '../test/helpers/freeradius.ts';
import { startOurDaemon } from './daemon.ts';
import { IN_FLIGHT, percentile, probeLatency, RADCLIENTS, radclientEntry, radclientLoad, scrv1 } from './load.ts';

const USERS = 1000;
const CODES = 20;
const PROBES = 300;
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const KEY = base32Decode(SECRET)!;
const OURS = 21812;
const FR = 21813;
const quiet = { info() {}, error() {} };




const pct = percentile;

export async function runRadiusBench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'awplus-bench-radius-'));
  const app = await App.start({ flash: join(dir, 'flash'), log: quiet });
  const s = app.openSession({ source: 'test', user: 'bench', userPrivilege: 15, enabled: true, location: 'bench' });
  for (const line of ['conf t', 'service 2fa', 'radius-server local', `server auth-port ${OURS}`, 'nas 127.0.0.1 key benchsecret 2fa', 'server enable', 'end']) {
    await s.execute(line);
  }
  const hash = hashPassword('benchpw');
  app.config.update((c) => {
    for (let i = 0; i < USERS + PROBES; i++) c.radius.local.users.set(`u${i}`, hash);
  });
  await s.execute('write memory');
  for (let i = 0; i < USERS + PROBES; i++) await app.twofa.createUser(`u${i}`, { secret: SECRET, hotp: true });
  await app.stop();
  const daemon = await startOurDaemon(join(dir, 'flash'), join(dir, 'awplus.log'));

  let ours: Awaited<ReturnType<typeof radclientLoad>>;
  let oursLatency: number[];
  try {
    // Warm-up: counter 1 of every user (also fills the first-factor cache, as a day of logins would).
    const w = await radclientLoad(dir, [OURS], 'benchsecret', Array.from({ length: USERS + PROBES }, (_, i) => radclientEntry(`u${i}`, scrv1('benchpw', hotp(KEY, 1)))));
    if (w.accepted !== USERS + PROBES) throw new Error(`warm-up accepted ${w.accepted}: ${w.out}`);

    // Timed: counters 2 … CODES+1, each user's codes USERS entries apart (and so in the same radclient, in order).
    const lines: string[] = [];
    for (let c = 2; c < 2 + CODES; c++) for (let u = 0; u < USERS; u++) lines.push(radclientEntry(`u${u}`, scrv1('benchpw', hotp(KEY, c))));
    const probeOurs = Array.from({ length: PROBES }, (_, i) => ({ user: `u${USERS + i}`, password: () => scrv1('benchpw', hotp(KEY, 2)) }));
    [ours, oursLatency] = await Promise.all([radclientLoad(dir, [OURS], 'benchsecret', lines), probeLatency(OURS, 'benchsecret', probeOurs)]);
  } finally {
    await daemon.stop();
  }
  if (ours.accepted !== USERS * CODES) throw new Error(`ours accepted ${ours.accepted} of ${USERS * CODES}: ${ours.out}`);

  const users = Array.from({ length: USERS + PROBES }, (_, i) => `u${i}\tCleartext-Password := "benchpw"`).join('\n') + '\n';
  const fr = await startFreeradius(FR, FR + 100, { users, threaded: true });
  const [theirs, theirLatency] = await Promise.all([
    radclientLoad(dir, [FR], 'upstreamsecret', Array.from({ length: USERS * CODES }, (_, i) => radclientEntry(`u${i % USERS}`, 'benchpw'))),
    probeLatency(FR, 'upstreamsecret', Array.from({ length: PROBES }, (_, i) => ({ user: `u${USERS + i}`, password: () => 'benchpw' }))),
  ]);
  await fr.stop();
  rmSync(dir, { recursive: true, force: true });
  if (theirs.accepted !== USERS * CODES) throw new Error(`FreeRADIUS accepted ${theirs.accepted}: ${theirs.out}`);

  const oursRate = (USERS * CODES) / ours.seconds;
  const theirRate = (USERS * CODES) / theirs.seconds;
  const fmt = (rate: number, lat: number[]) => `${rate.toFixed(0)} req/s, p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`;
  return [
    `| RADIUS, ${USERS * CODES} Access-Requests, radclient ×${RADCLIENTS} (${IN_FLIGHT} in flight) (ours: PAP + HOTP via SCRV1, fsync per accept; FreeRADIUS: PAP only) — target ≥ 1.0× | ${fmt(oursRate, oursLatency)} | FreeRADIUS 3.2 -f ${fmt(theirRate, theirLatency)} | ours/FreeRADIUS = ${(oursRate / theirRate).toFixed(2)}× |`,
  ];
}
