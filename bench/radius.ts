/**
 * RADIUS throughput side by side with FreeRADIUS in the same run (issue #8, SPEC §12), both driven by
 * radclient (freeradius-utils) with 100 requests in flight:
 *  - ours: PAP + second factor (SCRV1) for a `nas … 2fa` entry, local users as the first factor,
 *    every code valid and distinct (single use is on): 1 000 HOTP users × 20 consecutive counters,
 *    ordered so a user's next code is sent only after its previous one was answered;
 *  - FreeRADIUS 3.2 (threaded, -f): PAP only from a users file, the same number of requests.
 * Latency: a probe sends requests one at a time while each load runs and records every round trip.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { App } from '../src/app.ts';
import { encodeRequest, hidePassword } from '../src/radius/crypto.ts';
import { Attr } from '../src/radius/packet.ts';
import { base32Decode, hotp } from '../src/twofa/otp.ts';
import { hashPassword } from '../src/util/crypt.ts';
import { startFreeradius } from '../test/helpers/freeradius.ts';
import { peer } from '../test/helpers/peers.ts';

const USERS = 1000;
const CODES = 20;
const PROBES = 300;
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const KEY = base32Decode(SECRET)!;
const OURS = 21812;
const FR = 21813;
const quiet = { info() {}, error() {} };

const b64 = (s: string) => Buffer.from(s).toString('base64');
const entry = (user: string, password: string) => `User-Name = "${user}"\nUser-Password = "${password}"\nMessage-Authenticator = 0x00\n`;

/** radclient over a request file; returns wall time and the Accepted count. */
async function radclient(file: string, port: number, secret: string): Promise<{ seconds: number; accepted: number; out: string }> {
  const t0 = performance.now();
  const child = spawn(peer('radclient'), ['-q', '-s', '-t', '5', '-r', '1', '-p', '100', '-f', file, `127.0.0.1:${port}`, 'auth', secret]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await new Promise((r) => child.on('close', r));
  return { seconds: (performance.now() - t0) / 1000, accepted: Number(/Accepted\s*:\s*(\d+)/.exec(out)?.[1] ?? 0), out };
}

/** Sends `passwords` one at a time and records each round trip (ms). */
async function probe(port: number, secret: string, requests: { user: string; password: string }[]): Promise<number[]> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const s = Buffer.from(secret);
  const times: number[] = [];
  let id = 0;
  for (const { user, password } of requests) {
    const auth = randomBytes(16);
    const pkt = encodeRequest(id++ & 0xff, auth, [
      { type: Attr.UserName, value: Buffer.from(user) },
      { type: Attr.UserPassword, value: hidePassword(Buffer.from(password), s, auth) },
    ], s);
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      socket.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.send(pkt, port, '127.0.0.1');
    });
    times.push(performance.now() - t0);
  }
  socket.close();
  return times.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

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
  for (let i = 0; i < USERS + PROBES; i++) await app.twofa.createUser(`u${i}`, { secret: SECRET, hotp: true });

  // Warm-up: counter 1 of every user (also fills the first-factor cache, as a day of logins would).
  const warm = join(dir, 'warm.txt');
  writeFileSync(warm, Array.from({ length: USERS + PROBES }, (_, i) => entry(`u${i}`, `SCRV1:${b64('benchpw')}:${b64(hotp(KEY, 1))}`)).join('\n'));
  const w = await radclient(warm, OURS, 'benchsecret');
  if (w.accepted !== USERS + PROBES) throw new Error(`warm-up accepted ${w.accepted}: ${w.out}`);

  // Timed: counters 2 … CODES+1, each user's codes USERS entries apart.
  const load = join(dir, 'load.txt');
  const lines: string[] = [];
  for (let c = 2; c < 2 + CODES; c++) for (let u = 0; u < USERS; u++) lines.push(entry(`u${u}`, `SCRV1:${b64('benchpw')}:${b64(hotp(KEY, c))}`));
  writeFileSync(load, lines.join('\n'));
  const probeOurs = Array.from({ length: PROBES }, (_, i) => ({ user: `u${USERS + i}`, password: `SCRV1:${b64('benchpw')}:${b64(hotp(KEY, 2))}` }));
  const [ours, oursLatency] = await Promise.all([radclient(load, OURS, 'benchsecret'), probe(OURS, 'benchsecret', probeOurs)]);
  if (ours.accepted !== USERS * CODES) throw new Error(`ours accepted ${ours.accepted} of ${USERS * CODES}: ${ours.out}`);
  const batches = app.radius.server.stats.requests;
  await app.stop();

  const users = Array.from({ length: USERS + PROBES }, (_, i) => `u${i}\tCleartext-Password := "benchpw"`).join('\n') + '\n';
  const fr = await startFreeradius(FR, FR + 100, { users, threaded: true });
  const frLoad = join(dir, 'fr.txt');
  writeFileSync(frLoad, Array.from({ length: USERS * CODES }, (_, i) => entry(`u${i % USERS}`, 'benchpw')).join('\n'));
  const [theirs, theirLatency] = await Promise.all([
    radclient(frLoad, FR, 'upstreamsecret'),
    probe(FR, 'upstreamsecret', Array.from({ length: PROBES }, (_, i) => ({ user: `u${USERS + i}`, password: 'benchpw' }))),
  ]);
  await fr.stop();
  rmSync(dir, { recursive: true, force: true });
  if (theirs.accepted !== USERS * CODES) throw new Error(`FreeRADIUS accepted ${theirs.accepted}: ${theirs.out}`);

  const oursRate = (USERS * CODES) / ours.seconds;
  const theirRate = (USERS * CODES) / theirs.seconds;
  const fmt = (rate: number, lat: number[]) => `${rate.toFixed(0)} req/s, p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`;
  return [
    `| RADIUS, ${USERS * CODES} Access-Requests, radclient -p 100 (ours: PAP + HOTP via SCRV1, fsync per accept; FreeRADIUS: PAP only) — target ≥ 0.5× | ${fmt(oursRate, oursLatency)} (${batches} requests incl. warm-up) | FreeRADIUS 3.2 -f ${fmt(theirRate, theirLatency)} | ours/FreeRADIUS = ${(oursRate / theirRate).toFixed(2)}× |`,
  ];
}
