/**
 * Several appliances on one PostgreSQL (SPEC §16), with the real peers: two `awplus --daemon`
 * processes share a database of a PostgreSQL server this file starts (Debian `postgresql`), and a NAS
 * made of raw datagrams (it must send byte-identical retransmissions to either appliance, which
 * radclient cannot) asks them both.
 *
 * - 50 concurrent Access-Requests with the same valid code (TOTP, scratch, HOTP), split over both
 *   appliances: exactly one Accept.
 * - A retransmission to the other appliance gets the first one's Accept, byte for byte.
 * - kill -9 of one appliance under load: every Accept it sent is a used code on its peer, no user is
 *   lost, and the peer answers every request sent to it.
 * - PostgreSQL stopped under load: Rejects, never an Accept whose mark is not committed (every
 *   accepted code is refused as reused after the restart), the outage logged once per appliance, and
 *   both appliances serve again by themselves once it is back.
 * - migrate from an embedded store, then log in on both appliances.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { encodeRequest, hidePassword } from '../../src/radius/crypto.ts';
import { Attr, parsePacket } from '../../src/radius/packet.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { PostgresUserStore } from '../../src/twofa/store/postgresql.ts';
import { newUser } from '../../src/twofa/types.ts';
import { ApplianceClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';
import { tempFlash } from '../helpers/app.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { DB_PASSWORD, PgServer } from '../helpers/postgres.ts';
import { runAwplus, startDaemon, type Watched } from '../helpers/process.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const NAS_SECRET = 'scaleoutsecret';
const KEY = randomBytes(32);
const totp = () => hotp(base32Decode(SECRET)!, timeStep(Date.now()));

let server: PgServer;
const flashes: { dir: string; cleanup: () => void }[] = [];
const daemons = new Set<Watched>();

before(async () => {
  server = await PgServer.start();
});
after(async () => {
  for (const d of daemons) {
    d.child.kill('SIGKILL');
    await d.exited();
  }
  for (const f of flashes) f.cleanup();
  await server?.stop();
});

const database = () => server.database(DB_PASSWORD);

/** An appliance's flash: the group's key file, and a startup config on `url` (or the embedded store). */
async function flashFor(name: string, url: string | undefined): Promise<{ dir: string; port: number }> {
  const flash = tempFlash();
  flashes.push(flash);
  const port = await freeUdpPort();
  writeFileSync(join(flash.dir, '.2fa.key'), KEY.toString('base64') + '\n', { mode: 0o600 });
  const store = url ? [`2fa store postgresql ${url}`] : [];
  writeFileSync(
    join(flash.dir, 'default.cfg'),
    [`hostname ${name}`, 'service 2fa', ...store, 'radius-server local', ` server auth-port ${port}`, ` nas 127.0.0.1 key ${NAS_SECRET} 2fa only`, ' server enable', ''].join('\n'),
  );
  return { dir: flash.dir, port };
}

async function daemon(dir: string): Promise<Watched> {
  const d = await startDaemon(dir);
  daemons.add(d);
  return d;
}

async function kill(d: Watched, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  d.child.kill(signal);
  await d.exited();
  daemons.delete(d);
}

/** Log events of a daemon (JSON lines on its stderr). */
const events = (d: Watched, event: string, extra: (e: Record<string, unknown>) => boolean = () => true) =>
  d.out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e['event'] === event && extra(e));

/** How many events `count` finds once the daemons' log lines (written after their replies) are in: polled up to 3 s. */
async function settled(count: () => number, atLeast: number): Promise<number> {
  const deadline = performance.now() + 3000;
  let n = count();
  while (n < atLeast && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    n = count();
  }
  return n;
}

/** Users straight into the shared database (as an appliance of the group would write them). */
async function seed(url: string, names: string[], o: { hotp?: boolean; scratch?: string[] } = {}): Promise<void> {
  const store = PostgresUserStore.create({ url, password: undefined }, KEY, new ApplianceClock(), memoryLog());
  try {
    await store.put(...names.map((n) => newUser(n, o.hotp ? 'hotp' : 'totp', Date.now(), { secret: SECRET, scratch: o.scratch ?? ['12345678'] })));
  } finally {
    await store.close();
  }
}

type Answer = { code: 'accept' | 'reject' | 'challenge'; reply: Buffer } | undefined;

/** The NAS: one socket, requests to any appliance, replies matched by the appliance's port and Identifier. */
class Nas {
  private readonly waiting = new Map<string, (m: Buffer) => void>();
  private readonly ids = new Map<number, number>();
  private constructor(private readonly socket: Socket) {
    socket.on('message', (m, rinfo) => {
      if (m.length < 20) return;
      const w = this.waiting.get(`${rinfo.port}|${m[1]}`);
      if (w) {
        this.waiting.delete(`${rinfo.port}|${m[1]}`);
        w(m);
      }
    });
  }

  static async open(): Promise<Nas> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new Nas(socket);
  }

  /** A new Access-Request (its own Identifier and Request Authenticator) for `port`. */
  request(port: number, user: string, password: string): Buffer {
    const id = (this.ids.get(port) ?? -1) + 1;
    this.ids.set(port, id & 0xff);
    const auth = randomBytes(16);
    const s = Buffer.from(NAS_SECRET);
    return encodeRequest(id & 0xff, auth, [
      { type: Attr.UserName, value: Buffer.from(user) },
      { type: Attr.UserPassword, value: hidePassword(Buffer.from(password), s, auth) },
    ], s);
  }

  /** Sends `packet` to `port` and waits up to `waitMs` for the answer. */
  send(port: number, packet: Buffer, waitMs = 5000): Promise<Answer> {
    return new Promise((resolve) => {
      const key = `${port}|${packet[1]}`;
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        resolve(undefined);
      }, waitMs);
      this.waiting.set(key, (m) => {
        clearTimeout(timer);
        const code = parsePacket(m).code;
        resolve({ code: code === 2 ? 'accept' : code === 3 ? 'reject' : 'challenge', reply: m });
      });
      this.socket.send(packet, port, '127.0.0.1');
    });
  }

  login(port: number, user: string, password: string, waitMs?: number): Promise<Answer> {
    return this.send(port, this.request(port, user, password), waitMs);
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * Logs `users` in, user i on `ports[i % 2]`, `inFlight` at a time; `onAnswer` sees each answer as it
 * comes (and may stop a daemon or the database). Nothing more is sent to a port in `dead` (a NAS
 * marks a server dead). The answers, by user.
 */
async function load(nas: Nas, users: string[], ports: number[], code: () => string, onAnswer: (port: number, a: Answer) => Promise<void> | void = () => {}, dead = new Set<number>(), inFlight = 20): Promise<Map<string, { port: number; code: string; answer: Answer }>> {
  const out = new Map<string, { port: number; code: string; answer: Answer }>();
  let next = 0;
  const worker = async () => {
    while (next < users.length) {
      const i = next++;
      const user = users[i]!;
      const port = ports[i % ports.length]!;
      if (dead.has(port)) continue;
      const c = code();
      const answer = await nas.login(port, user, c);
      out.set(user, { port, code: c, answer });
      await onAnswer(port, answer);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return out;
}

/** Two appliances on one fresh database, each on its own flash and port. */
async function group(): Promise<{ url: string; a: Watched; b: Watched; pa: number; pb: number; fa: string; fb: string }> {
  const url = await database();
  const fa = await flashFor('nodeA', url);
  const fb = await flashFor('nodeB', url);
  const [a, b] = await Promise.all([daemon(fa.dir), daemon(fb.dir)]);
  return { url, a, b, pa: fa.port, pb: fb.port, fa: fa.dir, fb: fb.dir };
}

test('two appliances on one database: one Accept of 50 concurrent logins with one code (TOTP, scratch, HOTP); a retransmission to the other gets the same Accept', async () => {
  const g = await group();
  const nas = await Nas.open();
  try {
    await seed(g.url, ['t-user', 'r-user']);
    await seed(g.url, ['s-user'], { scratch: ['87654321', '12345678'] });
    await seed(g.url, ['h-user'], { hotp: true });
    // Both appliances connected and warm, so that their first attempts really overlap.
    await Promise.all([nas.login(g.pa, 'nobody', '000000'), nas.login(g.pb, 'nobody', '000000')]);

    for (const [user, code] of [['t-user', totp()], ['s-user', '87654321'], ['h-user', hotp(base32Decode(SECRET)!, 1)]] as const) {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => nas.login(i % 2 ? g.pa : g.pb, user, code)));
      const accepts = answers.filter((a) => a?.code === 'accept').length;
      const rejects = answers.filter((a) => a?.code === 'reject').length;
      assert.equal(accepts, 1, `${user}: ${accepts} Accepts`);
      assert.equal(rejects, 49, `${user}: every other request answered with a Reject (${rejects})`);
    }
    const bothAnswered = events(g.a, 'radius-auth').length > 0 && events(g.b, 'radius-auth').length > 0;
    assert.ok(bothAnswered, 'both appliances decided some of them');

    // A retransmission: the same datagram, first to A, then (the NAS gave up on A) to B.
    const code = totp();
    const packet = nas.request(g.pa, 'r-user', code);
    const first = await nas.send(g.pa, packet);
    assert.equal(first?.code, 'accept');
    const again = await nas.send(g.pb, packet);
    assert.equal(again?.code, 'accept', 'the other appliance answers the retransmission with the Accept');
    assert.deepEqual(again!.reply, first!.reply, 'byte for byte (same secret, same request)');
    // Not a second evaluation: a new request with the same code is refused there as reused.
    assert.equal((await nas.login(g.pb, 'r-user', code))?.code, 'reject');
    assert.equal(await settled(() => events(g.b, 'radius-auth', (e) => e['user'] === 'r-user' && e['reason'] === 'reused').length, 1), 1);
  } finally {
    nas.close();
    await kill(g.a);
    await kill(g.b);
  }
});

test('kill -9 of one appliance under load: nothing it accepted is lost, and its peer keeps serving', async () => {
  const g = await group();
  const nas = await Nas.open();
  const users = Array.from({ length: 200 }, (_, i) => `k${i}`);
  try {
    await seed(g.url, users);
    let fromA = 0;
    const dead = new Set<number>();
    const answers = await load(
      nas,
      users,
      [g.pa, g.pb],
      totp,
      (port, a) => {
        if (a?.code === 'accept' && port === g.pa && ++fromA === 30) {
          g.a.child.kill('SIGKILL');
          dead.add(g.pa);
        }
      },
      dead,
    );
    await g.a.exited();
    daemons.delete(g.a);
    const toB = [...answers.values()].filter((x) => x.port === g.pb);
    assert.equal(toB.length, 100);
    assert.equal(toB.filter((x) => x.answer?.code === 'accept').length, toB.length, 'the peer accepted every login sent to it');
    const accepted = [...answers].filter(([, x]) => x.answer?.code === 'accept');
    const acceptedByA = accepted.filter(([, x]) => x.port === g.pa);
    assert.ok(acceptedByA.length >= 30 && acceptedByA.length < 100, `A accepted ${acceptedByA.length} before it died`);

    // Every code accepted anywhere is a used code on the peer now.
    const replayed = await Promise.all(accepted.map(([user, x]) => nas.login(g.pb, user, x.code)));
    assert.equal(replayed.filter((r) => r?.code === 'accept').length, 0, 'no accepted code accepted again');
    const reused = await settled(() => events(g.b, 'radius-auth', (e) => e['reason'] === 'reused').length, accepted.length);
    assert.ok(reused >= accepted.length, `refused as reused: ${reused} of ${accepted.length}`);
    const shown = await runAwplus(['connect', '--flash', g.fb], 'show 2fa | include Users\n');
    assert.match(shown.stdout, /Users +: 200 \(TOTP 200,/);
  } finally {
    nas.close();
    if (daemons.has(g.a)) await kill(g.a);
    await kill(g.b);
  }
});

test('PostgreSQL stopped under load: Rejects, no Accept without a committed mark, logged once, recovered by itself', async () => {
  const g = await group();
  const nas = await Nas.open();
  const users = Array.from({ length: 240 }, (_, i) => `p${i}`);
  const later = ['pa-back', 'pb-back'];
  try {
    await seed(g.url, [...users, ...later]);
    let accepts = 0;
    let stopping: Promise<void> | undefined;
    const answers = await load(nas, users, [g.pa, g.pb], totp, (_, a) => {
      if (a?.code === 'accept' && ++accepts === 40) stopping = server.stopServer('immediate');
    });
    await stopping;
    const all = [...answers.values()];
    assert.equal(all.filter((x) => x.answer === undefined).length, 0, 'every request answered (fail closed, not silent)');
    const rejected = all.filter((x) => x.answer?.code === 'reject').length;
    assert.ok(rejected > 0, 'logins refused while the database was away');
    for (const d of [g.a, g.b]) {
      assert.ok((await settled(() => events(d, 'radius-auth', (e) => e['reason'] === 'store-unavailable').length, 1)) > 0, 'rejects say store-unavailable');
      assert.equal(events(d, '2fa-store-unavailable').length, 1, 'the outage logged once per appliance');
    }
    const shown = await runAwplus(['connect', '--flash', g.fa], 'show 2fa | include Store\n');
    assert.match(shown.stdout, /Store state +: Unavailable since/);

    await server.startServer();
    // Both serve again by themselves.
    for (const [port, user] of [[g.pa, 'pa-back'], [g.pb, 'pb-back']] as const) {
      const deadline = performance.now() + 15000;
      let answer: Answer;
      do {
        answer = await nas.login(port, user, totp());
        if (answer?.code !== 'accept') await new Promise((r) => setTimeout(r, 300));
      } while (answer?.code !== 'accept' && performance.now() < deadline);
      assert.equal(answer?.code, 'accept', `appliance on port ${port} accepts again`);
    }
    // Every Accept had its mark committed: after the crash and recovery, each of those codes is used.
    const accepted = [...answers].filter(([, x]) => x.answer?.code === 'accept');
    assert.ok(accepted.length >= 40, `accepted ${accepted.length}`);
    const replayed = await Promise.all(accepted.map(([user, x]) => nas.login(x.port === g.pa ? g.pb : g.pa, user, x.code)));
    assert.equal(replayed.filter((r) => r?.code === 'accept').length, 0, 'no accepted code accepted again');
    const reused = await settled(() => [g.a, g.b].reduce((n, d) => n + events(d, 'radius-auth', (e) => String(e['user']).startsWith('p') && e['reason'] === 'reused').length, 0), accepted.length);
    assert.ok(reused >= accepted.length, `refused as reused: ${reused} of ${accepted.length}`);
  } finally {
    nas.close();
    await kill(g.a);
    await kill(g.b);
    if (!server.running) await server.startServer();
  }
});

test('migrate an embedded store into PostgreSQL, then log in on both appliances', async () => {
  const url = await database();
  const fa = await flashFor('nodeA', undefined);
  const script = (lines: string[]) => lines.join('\n') + '\n';
  let a = await daemon(fa.dir);
  const nas = await Nas.open();
  let b: Watched | undefined;
  try {
    const created = await runAwplus(['connect', '--flash', fa.dir], script([`2fa create user m1 secret ${SECRET}`, `2fa create user m2 secret ${SECRET}`]));
    assert.equal(created.code, 0, created.stdout);
    // Each code is taken once and sent again as it was: a code of the time of the second send could
    // belong to the next step (this test takes seconds), which would rightly be accepted.
    const m1Code = totp();
    assert.equal((await nas.login(fa.port, 'm1', m1Code))?.code, 'accept', 'm1 logs in on the embedded store');
    const migrated = await runAwplus(['connect', '--flash', fa.dir], script(['conf t', `2fa store postgresql ${url}`, 'end', '2fa store migrate', 'write memory']));
    assert.equal(migrated.code, 0, migrated.stdout);
    assert.match(migrated.stdout, /Copied 2 2FA users into the PostgreSQL store \(0 already there, the same\)/);
    await kill(a);
    a = await daemon(fa.dir);
    const fb = await flashFor('nodeB', url);
    b = await daemon(fb.dir);
    // m1's code was used on the embedded store, and that came along.
    assert.equal((await nas.login(fb.port, 'm1', m1Code))?.code, 'reject', 'the step m1 used before the migration stays used');
    const m2Code = totp();
    assert.equal((await nas.login(fb.port, 'm2', m2Code))?.code, 'accept', 'm2 logs in on the second appliance');
    assert.equal((await nas.login(fa.port, 'm2', m2Code))?.code, 'reject', 'and that code is used on the first');
    const shown = await runAwplus(['connect', '--flash', fb.dir], 'show 2fa | include User\n');
    assert.match(shown.stdout, /Users +: 2 \(TOTP 2,/);
    assert.match(shown.stdout, /User store +: PostgreSQL postgresql:\/\/awplus@127\.0\.0\.1:\d+\/t\d+\n/);
  } finally {
    nas.close();
    await kill(a);
    if (b) await kill(b);
  }
});
