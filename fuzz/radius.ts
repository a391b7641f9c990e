/**
 * RADIUS fuzzing against a real daemon on 127.0.0.1 (SPEC §18; issue #17): mutated and random
 * datagrams in many classes, a bounded count, from three sockets whose replies are judged apart:
 *
 * - `nas` (127.0.0.1, a configured NAS): anything may be answered, but every answer must be a
 *   well-formed Access-Accept/Reject/Challenge whose Response Authenticator and Message-Authenticator
 *   (first attribute, RFC 3579 §3.2) verify against a request sent from that socket;
 * - `silent` (127.0.0.1): requests whose Message-Authenticator is wrong, of the wrong length, doubled,
 *   or signed with another secret — RFC 3579 §3.2 says silently discard: any answer is a failure;
 * - `stranger` (127.0.0.2, no NAS): RFC 2865 §3 says silently discard: any answer is a failure.
 *
 * After every batch a probe (a valid request from its own socket) must be answered: the daemon is alive
 * and has read the batch (one socket, read in order). At the end: the daemon still runs, no error line
 * in its log, its memory before and after, and how many datagrams it counted.
 */
import { createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMessageAuthenticator, checkResponseAuthenticator, encodeRequest, hidePassword } from '../src/radius/crypto.ts';
import { Attr, Code, encodePacket, parsePacket, type Attribute } from '../src/radius/packet.ts';
import { base32Decode, hotp, timeStep } from '../src/twofa/otp.ts';
import { freeUdpPort } from '../test/helpers/ports.ts';
import { FuzzDaemon } from './daemon.ts';

const SECRET: Buffer = Buffer.from('fuzz-secret');
const USER_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
/** The daemon's V8 old-space limit in the fuzz run (MB). */
export const HEAP_MB = 160;

export interface FuzzOptions {
  /** How many datagrams to send (probes not counted). */
  readonly datagrams: number;
  /** PRNG seed: the same seed sends the same datagrams. */
  readonly seed?: number;
  /** Datagrams between two probes (the daemon must catch up before the next batch). */
  readonly batch?: number;
  readonly progress?: (text: string) => void;
}

export interface FuzzFigures {
  readonly seed: number;
  readonly datagrams: number;
  /** Datagrams per mutation class. */
  readonly classes: Record<string, number>;
  readonly seconds: number;
  /** The daemon exited during the run. */
  readonly crashed: boolean;
  /** Error lines in the daemon's log (internal errors, unhandled rejections, stack traces). */
  readonly errors: readonly string[];
  /** Answers to the silent or stranger sockets: datagrams RFC 2865 §3 / RFC 3579 §3.2 say to discard. */
  readonly forbiddenReplies: number;
  /** Answers to the NAS socket that are malformed or whose authenticators do not verify. */
  readonly badReplies: number;
  readonly replies: number;
  readonly probes: number;
  readonly probesUnanswered: number;
  /** Datagrams the daemon read (`show radius local-server statistics`, probes not counted). */
  readonly daemonCounted: number;
  readonly rssReadyKb: number;
  readonly rssBeforeKb: number;
  /** RSS half way through: with the end, it says whether memory still grows. */
  readonly rssHalfKb: number;
  readonly rssAfterKb: number;
  readonly peakKb: number;
}

/** xorshift32: small, fast, seedable. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

type Target = 'nas' | 'silent' | 'stranger';

/** Signs a packet's Message-Authenticator (the first one) over the packet as it is, RFC 3579 §3.2. */
function sign(pkt: Buffer, secret: Buffer = SECRET): Buffer {
  let pos = 20;
  while (pos + 2 <= pkt.length) {
    const len = pkt[pos + 1]!;
    if (pkt[pos] === Attr.MessageAuthenticator && len === 18) {
      pkt.fill(0, pos + 2, pos + 18);
      createHmac('md5', secret).update(pkt).digest().copy(pkt, pos + 2);
      return pkt;
    }
    if (len < 2) break;
    pos += len;
  }
  return pkt;
}

const MA0 = (): Attribute => ({ type: Attr.MessageAuthenticator, value: Buffer.alloc(16) });

/** Builds a request with a Message-Authenticator first and signs it. */
function request(rng: Rng, attrs: Attribute[], opts: { code?: number; secret?: Buffer; ma?: boolean } = {}): Buffer {
  const all = opts.ma === false ? attrs : [MA0(), ...attrs];
  let total = 20;
  const kept: Attribute[] = [];
  for (const a of all) {
    if (total + a.value.length + 2 > 4096) break;
    total += a.value.length + 2;
    kept.push(a);
  }
  const pkt = encodePacket(opts.code ?? Code.AccessRequest, rng.int(256), rng.bytes(16), kept);
  return opts.ma === false ? pkt : sign(pkt, opts.secret);
}

/**
 * A User-Password hidden with a random authenticator rather than the packet's (known only once it is
 * built): it un-hides to garbage, one more thing for the decision to cope with.
 */
function userPassword(rng: Rng, password: Buffer): Attribute {
  return { type: Attr.UserPassword, value: hidePassword(password.subarray(0, 128), SECRET, rng.bytes(16)) };
}

/** A well-formed Access-Request for `user` with `password`, hidden with its own authenticator. */
function login(rng: Rng, user: Buffer | string, password: Buffer | string, extra: Attribute[] = [], withMa = true): Buffer {
  const authenticator = rng.bytes(16);
  const attrs: Attribute[] = [
    { type: Attr.UserName, value: Buffer.isBuffer(user) ? user.subarray(0, 253) : Buffer.from(user).subarray(0, 253) },
    { type: Attr.UserPassword, value: hidePassword((Buffer.isBuffer(password) ? password : Buffer.from(password)).subarray(0, 128), SECRET, authenticator) },
  ];
  // As many of `extra` as fit in 4096 octets with the Message-Authenticator.
  let room = 4096 - 20 - (withMa ? 18 : 0) - attrs.reduce((n, a) => n + a.value.length + 2, 0);
  for (const a of extra) {
    if (a.value.length + 2 > room) break;
    room -= a.value.length + 2;
    attrs.push(a);
  }
  return withMa ? encodeRequest(rng.int(256), authenticator, attrs, SECRET) : encodePacket(Code.AccessRequest, rng.int(256), authenticator, attrs);
}

const scrv1 = (password: string | Buffer, code: string | Buffer) =>
  `SCRV1:${Buffer.from(password).toString('base64')}:${Buffer.from(code).toString('base64')}`;

function randomAttr(rng: Rng): Attribute {
  return { type: rng.int(256), value: rng.bytes(rng.int(254)) };
}

function evilName(rng: Rng): Buffer {
  return rng.pick([
    () => Buffer.from('\x1b[2J\x1b]0;owned\x07alice'),
    () => Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]),
    () => Buffer.from('a'.repeat(253)),
    () => Buffer.from('alice\u202e\u0000\r\n'),
    () => rng.bytes(1 + rng.int(253)),
    () => Buffer.from('DOMAIN\\alice'),
    () => Buffer.from('alice@example.com'),
    () => Buffer.alloc(0),
  ])();
}

/** Flips `n` random bits. */
function flip(rng: Rng, b: Buffer, n: number): Buffer {
  const c = Buffer.from(b);
  for (let i = 0; i < n; i++) c[rng.int(c.length)]! ^= 1 << rng.int(8);
  return c;
}

/** The mutation classes: name → (rng, recent datagrams) → datagram and where it goes. */
function classes(code: () => string): [string, (rng: Rng, recent: Buffer[]) => { d: Buffer; to: Target }][] {
  const valid = (rng: Rng) => login(rng, 'alice', rng.int(2) ? scrv1('alicepw', code()) : 'alicepw');
  return [
    ['random bytes', (rng) => ({ d: rng.bytes(rng.int(4200)), to: 'nas' })],
    ['random short', (rng) => ({ d: rng.bytes(rng.int(40)), to: 'nas' })],
    ['truncated', (rng) => {
      const v = valid(rng);
      return { d: v.subarray(0, rng.int(v.length)), to: 'nas' };
    }],
    ['length field', (rng) => {
      const v = Buffer.from(valid(rng));
      v.writeUInt16BE(rng.pick([0, 1, 19, 20, 21, v.length - 1, v.length + 1, 4096, 4097, 65535, rng.int(65536)]), 2);
      return { d: v, to: 'nas' };
    }],
    ['bit flips', (rng) => ({ d: flip(rng, valid(rng), 1 + rng.int(8)), to: 'nas' })],
    ['byte overwrite', (rng) => {
      const v = Buffer.from(valid(rng));
      for (let i = 0, n = 1 + rng.int(6); i < n; i++) v[rng.int(v.length)] = rng.pick([0, 1, 2, 0x50, 0x12, 0x7f, 0x80, 0xff, rng.int(256)]);
      return { d: v, to: 'nas' };
    }],
    ['attribute length', (rng) => {
      const v = Buffer.from(valid(rng));
      // Attribute headers: the first is at 20; corrupt one of the first three lengths.
      let pos = 20;
      for (let i = rng.int(3); i > 0 && pos + 1 < v.length; i--) pos += Math.max(2, v[pos + 1]!);
      if (pos + 1 < v.length) v[pos + 1] = rng.pick([0, 1, 2, 3, 17, 19, 255, rng.int(256)]);
      return { d: v, to: 'nas' };
    }],
    ['random attributes, signed', (rng) => {
      const attrs = Array.from({ length: 1 + rng.int(20) }, () => randomAttr(rng)).filter((a) => a.type !== Attr.MessageAuthenticator);
      return { d: request(rng, [{ type: Attr.UserName, value: Buffer.from('alice') }, ...attrs]), to: 'nas' };
    }],
    ['duplicate attributes, signed', (rng) => {
      const a = [
        { type: Attr.UserName, value: Buffer.from(rng.int(2) ? 'alice' : 'bob') },
        userPassword(rng, Buffer.from('alicepw')),
        { type: Attr.State, value: rng.bytes(16) },
      ];
      return { d: request(rng, [...a, ...a.filter(() => rng.int(2))]), to: 'nas' };
    }],
    ['Message-Authenticator of a wrong length', (rng) => {
      const len = rng.pick([0, 1, 14, 15, 17, 18, 20, 32, 253]);
      const v = login(rng, 'alice', scrv1('alicepw', code()), [], false);
      const ma = Buffer.concat([Buffer.from([Attr.MessageAuthenticator, len + 2]), Buffer.alloc(len)]);
      const pkt = Buffer.concat([v.subarray(0, 20), ma, v.subarray(20)]);
      pkt.writeUInt16BE(pkt.length, 2);
      // The first min(16, len) octets verify as if the attribute were 18 long: a lax check would pass it.
      const h = createHmac('md5', SECRET).update(pkt).digest();
      h.copy(pkt, 22, 0, Math.min(16, len));
      return { d: pkt, to: 'silent' };
    }],
    ['two Message-Authenticators', (rng) => {
      const v = login(rng, 'alice', scrv1('alicepw', code()), [{ type: Attr.MessageAuthenticator, value: rng.int(2) ? Buffer.alloc(16) : rng.bytes(16) }]);
      return { d: sign(Buffer.from(v)), to: 'silent' };
    }],
    ['wrong Message-Authenticator', (rng) => {
      const v = Buffer.from(login(rng, 'alice', scrv1('alicepw', code())));
      v[22 + rng.int(16)]! ^= 1 << rng.int(8);
      return { d: v, to: 'silent' };
    }],
    ['signed with another secret', (rng) => {
      const other = rng.bytes(1 + rng.int(32));
      const authenticator = rng.bytes(16);
      const attrs = [{ type: Attr.UserName, value: Buffer.from('alice') }, { type: Attr.UserPassword, value: hidePassword(Buffer.from('alicepw'), other, authenticator) }];
      return { d: encodeRequest(rng.int(256), authenticator, attrs, other), to: 'silent' };
    }],
    ['huge Proxy-State, signed', (rng) => {
      const ps = Array.from({ length: 1 + rng.int(17) }, () => ({ type: Attr.ProxyState, value: rng.bytes(200 + rng.int(54)) }));
      return { d: login(rng, 'alice', rng.int(2) ? 'alicepw' : scrv1('alicepw', code()), ps), to: 'nas' };
    }],
    ['odd User-Password lengths, signed', (rng) => {
      const len = rng.pick([0, 1, 15, 17, 31, 33, 127, 129, 144, 253]);
      return { d: request(rng, [{ type: Attr.UserName, value: Buffer.from('alice') }, { type: Attr.UserPassword, value: rng.bytes(len) }]), to: 'nas' };
    }],
    ['other codes, signed', (rng) => ({ d: request(rng, [{ type: Attr.UserName, value: Buffer.from('alice') }, userPassword(rng, Buffer.from('x'))], { code: rng.int(256) }), to: 'nas' })],
    ['garbage State', (rng) => ({ d: login(rng, 'alice', rng.pick(['123456', '', code(), rng.bytes(6).toString('latin1')]), [{ type: Attr.State, value: rng.bytes(rng.int(254)) }]), to: 'nas' })],
    ['SCRV1 garbage', (rng) => {
      const p = rng.pick([
        () => `SCRV1:${rng.bytes(rng.int(60)).toString('base64')}:${rng.bytes(rng.int(20)).toString('base64')}`,
        () => 'SCRV1:',
        () => 'SCRV1::',
        () => `SCRV1:%%%:${'='.repeat(rng.int(50))}`,
        () => scrv1(rng.bytes(rng.int(90)), code()),
        () => `SCRV1:${Buffer.from('alicepw').toString('base64')}:${Buffer.from('\u00ff\u0000\u202e').toString('base64')}`,
      ])();
      return { d: login(rng, 'alice', p), to: 'nas' };
    }],
    ['evil User-Name', (rng) => ({ d: login(rng, evilName(rng), rng.int(2) ? 'alicepw' : scrv1('x', '123456')), to: 'nas' })],
    ['code in password', (rng) => ({ d: login(rng, 'alice', `alicepw${String(rng.int(1e8)).padStart(rng.pick([6, 8]), '0')}`), to: 'nas' })],
    ['no Message-Authenticator', (rng) => ({ d: login(rng, rng.pick(['alice', 'bob', '']), scrv1('alicepw', code()), [], false), to: 'nas' })],
    ['EAP and CHAP', (rng) => ({
      d: request(rng, [
        { type: Attr.UserName, value: Buffer.from('alice') },
        rng.int(2) ? { type: Attr.EapMessage, value: rng.bytes(1 + rng.int(253)) } : { type: Attr.ChapPassword, value: rng.bytes(17) },
      ]),
      to: 'nas',
    })],
    ['retransmission', (rng, recent) => ({ d: recent.length ? rng.pick(recent) : valid(rng), to: 'nas' })],
    ['unknown client', (rng) => ({ d: rng.int(3) ? valid(rng) : rng.bytes(rng.int(4200)), to: 'stranger' })],
  ];
}

async function udp(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  return s;
}

/** Runs the fuzz run: starts a daemon, sends `datagrams`, judges every answer, stops the daemon. */
export async function fuzzRadius(o: FuzzOptions): Promise<FuzzFigures> {
  const seed = o.seed ?? (Date.now() & 0x7fffffff);
  const batch = o.batch ?? 50;
  const rng = new Rng(seed);
  const port = await freeUdpPort();
  const flash = mkdtempSync(join(tmpdir(), 'awplus-fuzz-'));
  writeFileSync(
    join(flash, 'default.cfg'),
    ['service 2fa', '2fa lockout failures 100 period 1', 'radius-server local', ' nas 127.0.0.1 key fuzz-secret 2fa', ' user alice password alicepw', ` server auth-port ${port}`, ' server enable', ''].join('\n'),
  );
  // The V8 heap is capped, so retained memory shows as RSS (V8 would otherwise let garbage pile up to
  // gigabytes before collecting) and a leak ends in an out-of-memory crash the run reports.
  const { daemon } = await FuzzDaemon.start(flash, { nodeArgs: [`--max-old-space-size=${HEAP_MB}`] });
  const sockets: Socket[] = [];
  try {
    const created = await daemon.cli(`2fa create user alice secret ${USER_SECRET}`, '2fa create user bob skip-2fa');
    if (!/Successfully|created/i.test(created)) throw new Error(`cannot create the users:\n${created}`);
    const key = base32Decode(USER_SECRET)!;
    const code = () => hotp(key, timeStep(Date.now()));
    const rssReadyKb = daemon.memory().rssKb;
    const [nas, silent, stranger, probeSocket] = await Promise.all([udp('127.0.0.1'), udp('127.0.0.1'), udp('127.0.0.2'), udp('127.0.0.1')]);
    sockets.push(nas!, silent!, stranger!, probeSocket!);
    let forbiddenReplies = 0;
    let badReplies = 0;
    let replies = 0;
    const sentFromNas = new Map<number, Buffer[]>();
    silent!.on('message', () => forbiddenReplies++);
    stranger!.on('message', () => forbiddenReplies++);
    nas!.on('message', (msg) => {
      replies++;
      let p;
      try {
        p = parsePacket(msg);
      } catch {
        badReplies++;
        return;
      }
      const candidates = sentFromNas.get(p.identifier) ?? [];
      const ok =
        [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge].includes(p.code as 2) &&
        p.attributes[0]?.type === Attr.MessageAuthenticator &&
        candidates.some((auth) => checkResponseAuthenticator(p, auth, SECRET) && checkMessageAuthenticator(p, SECRET, auth) === true);
      if (!ok) badReplies++;
    });
    let probeWaiter: ((ok: boolean) => void) | undefined;
    probeSocket!.on('message', () => probeWaiter?.(true));
    const probe = () =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5000);
        probeWaiter = (ok) => {
          clearTimeout(timer);
          probeWaiter = undefined;
          resolve(ok);
        };
        probeSocket!.send(login(rng, 'alice', scrv1('alicepw', '000000')), port, '127.0.0.1');
      });

    const table = classes(code);
    const counts: Record<string, number> = Object.fromEntries(table.map(([n]) => [n, 0]));
    const recent: Buffer[] = [];
    let probes = 0;
    let probesUnanswered = 0;
    let rssBeforeKb = rssReadyKb;
    let rssHalfKb = NaN;
    const warmup = Math.min(10_000, Math.floor(o.datagrams / 10));
    const t0 = performance.now();
    let lastReport = t0;
    for (let sent = 0; sent < o.datagrams && daemon.alive; ) {
      const n = Math.min(batch, o.datagrams - sent);
      for (let i = 0; i < n; i++) {
        const [name, make] = table[rng.int(table.length)]!;
        const { d, to } = make(rng, recent);
        counts[name]!++;
        const socket = to === 'nas' ? nas! : to === 'silent' ? silent! : stranger!;
        if (to === 'nas' && d.length >= 20) {
          const list = sentFromNas.get(d[1]!) ?? [];
          list.push(Buffer.from(d.subarray(4, 20)));
          if (list.length > 64) list.shift();
          sentFromNas.set(d[1]!, list);
          if (recent.length < 256) recent.push(d);
          else recent[rng.int(256)] = d;
        }
        socket.send(d, port, '127.0.0.1');
      }
      sent += n;
      probes++;
      if (!(await probe())) probesUnanswered++;
      if (sent >= warmup && rssBeforeKb === rssReadyKb && daemon.alive) rssBeforeKb = daemon.memory().rssKb;
      if (sent >= o.datagrams / 2 && Number.isNaN(rssHalfKb) && daemon.alive) rssHalfKb = daemon.memory().rssKb;
      if (o.progress && performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        o.progress(`${sent} datagrams, ${((sent / (lastReport - t0)) * 1000).toFixed(0)}/s, RSS ${daemon.memory().rssKb} kB, forbidden ${forbiddenReplies}, bad ${badReplies}, errors ${daemon.errors.length}`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    // Late answers to the last batch.
    await new Promise((r) => setTimeout(r, 300));
    const crashed = !daemon.alive;
    const mem = crashed ? { rssKb: NaN, peakKb: NaN } : daemon.memory();
    let daemonCounted = NaN;
    if (!crashed) {
      const stats = await daemon.cli('show radius local-server statistics');
      const num = (label: string) => Number(new RegExp(`^\\s*${label}\\s*:\\s*(\\d+)`, 'm').exec(stats)?.[1] ?? NaN);
      daemonCounted = num('Datagrams received') - probes;
    }
    return {
      seed,
      datagrams: Object.values(counts).reduce((a, b) => a + b, 0),
      classes: counts,
      seconds,
      crashed,
      errors: [...daemon.errors],
      forbiddenReplies,
      badReplies,
      replies,
      probes,
      probesUnanswered,
      daemonCounted,
      rssReadyKb,
      rssBeforeKb,
      rssHalfKb,
      rssAfterKb: mem.rssKb,
      peakKb: mem.peakKb,
    };
  } finally {
    for (const s of sockets) s.close();
    await daemon.stop();
    rmSync(flash, { recursive: true, force: true });
  }
}
