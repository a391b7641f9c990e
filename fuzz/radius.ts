/**
 * RADIUS fuzzing against a real daemon on 127.0.0.1 (SPEC §18; issue #17): mutated and random
 * datagrams in many classes, a bounded count, to the authentication port and (a fifth of them) to the
 * accounting port (`server acct-port`, RFC 2866), from sockets whose replies are judged apart:
 *
 * - `nas` (127.0.0.1, a configured NAS), to the authentication port: anything may be answered, but every
 *   answer must be a well-formed Access-Accept/Reject/Challenge whose Response Authenticator and
 *   Message-Authenticator (first attribute, RFC 3579 §3.2) verify against a request sent from that socket;
 * - `acct` (127.0.0.1, the same NAS), to the accounting port: every answer must be a well-formed
 *   Accounting-Response (no attribute but Proxy-State and Vendor-Specific) whose Response Authenticator
 *   (RFC 2866 §3) verifies against an Accounting-Request sent from that socket with the same Identifier,
 *   every Proxy-State echoed in order (RFC 2865 §5.33). The fuzzer also judges each request itself,
 *   without the daemon's code: an answer to one that must be discarded (malformed, not code 4, a Request
 *   Authenticator that does not verify, no 4-octet Acct-Status-Type; a Status-Server without exactly one
 *   Message-Authenticator that verifies, RFC 5997) is a forbidden reply;
 * - `silent` (127.0.0.1): requests (Status-Server too, to either port) whose Message-Authenticator is
 *   missing (Status-Server), wrong, of the wrong length, doubled, or signed with another secret — RFC 3579
 *   §3.2 and RFC 5997 say silently discard — and Accounting-Requests whose
 *   Request Authenticator is wrong or made with another secret (RFC 2866 §3), or sent to the
 *   authentication port: any answer is a failure;
 * - `stranger` (127.0.0.2, no NAS), to either port: RFC 2865 §3 says silently discard: any answer is a failure.
 *
 * After every batch two probes (a valid request to each port, each from its own socket) must be
 * answered: the daemon is alive and has read the batch (one socket per port, read in order). At the
 * end: the daemon still runs, no error line in its log, its memory before and after, and how many
 * datagrams its two servers counted.
 */
import { createHash, createHmac } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
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
  /**
   * Answers to datagrams RFC 2865 §3 / RFC 3579 §3.2 / RFC 2866 §3 say to discard: any answer to the
   * silent or stranger sockets, and answers on the accounting port to a request that must be discarded.
   */
  readonly forbiddenReplies: number;
  /** Answers to the NAS sockets (both ports) that are malformed, come from the wrong port, or whose authenticators do not verify. */
  readonly badReplies: number;
  /** Answers to the NAS sockets, both ports. */
  readonly replies: number;
  /** Of `datagrams`, those of the accounting classes (most to the accounting port). */
  readonly accountingDatagrams: number;
  /** Of `replies`, the Accounting-Responses that verified. */
  readonly accountingReplies: number;
  /** Liveness probes, both ports (two per batch). */
  readonly probes: number;
  readonly probesUnanswered: number;
  /** Datagrams the daemon's two servers read (`show radius local-server statistics`, both parts, probes not counted). */
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

/** As many of `attrs`, in order, as fit in a packet of 4096 octets (RFC 2865 §3). */
function fitting(attrs: readonly Attribute[]): Attribute[] {
  let total = 20;
  const kept: Attribute[] = [];
  for (const a of attrs) {
    if (total + a.value.length + 2 > 4096) break;
    total += a.value.length + 2;
    kept.push(a);
  }
  return kept;
}

/** Builds a request with a Message-Authenticator first and signs it. */
function request(rng: Rng, attrs: Attribute[], opts: { code?: number; secret?: Buffer; ma?: boolean } = {}): Buffer {
  const pkt = encodePacket(opts.code ?? Code.AccessRequest, rng.int(256), rng.bytes(16), fitting(opts.ma === false ? attrs : [MA0(), ...attrs]));
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

/** Cut short: from nothing to one octet less than the whole. */
function truncate(rng: Rng, v: Buffer): Buffer {
  return v.subarray(0, rng.int(v.length));
}

/** A Length field that lies (RFC 2865 §3: octets beyond it are padding; fewer octets than it say is malformed). */
function lengthField(rng: Rng, valid: Buffer): Buffer {
  const v = Buffer.from(valid);
  v.writeUInt16BE(rng.pick([0, 1, 19, 20, 21, v.length - 1, v.length + 1, 4096, 4097, 65535, rng.int(65536)]), 2);
  return v;
}

/** A few octets overwritten with values that mean something in a header or an attribute. */
function overwrite(rng: Rng, valid: Buffer): Buffer {
  const v = Buffer.from(valid);
  for (let i = 0, n = 1 + rng.int(6); i < n; i++) v[rng.int(v.length)] = rng.pick([0, 1, 2, 0x50, 0x12, 0x7f, 0x80, 0xff, rng.int(256)]);
  return v;
}

/** One of the first three attribute lengths corrupted (the first attribute is at 20). */
function attributeLength(rng: Rng, valid: Buffer): Buffer {
  const v = Buffer.from(valid);
  let pos = 20;
  for (let i = rng.int(3); i > 0 && pos + 1 < v.length; i--) pos += Math.max(2, v[pos + 1]!);
  if (pos + 1 < v.length) v[pos + 1] = rng.pick([0, 1, 2, 3, 17, 19, 255, rng.int(256)]);
  return v;
}

/** The mutation classes: name → (rng, recent datagrams) → datagram and where it goes. */
function classes(code: () => string): [string, Make][] {
  const valid = (rng: Rng) => login(rng, 'alice', rng.int(2) ? scrv1('alicepw', code()) : 'alicepw');
  return [
    ['random bytes', (rng) => ({ d: rng.bytes(rng.int(4200)), to: 'nas' })],
    ['random short', (rng) => ({ d: rng.bytes(rng.int(40)), to: 'nas' })],
    ['truncated', (rng) => ({ d: truncate(rng, valid(rng)), to: 'nas' })],
    ['length field', (rng) => ({ d: lengthField(rng, valid(rng)), to: 'nas' })],
    ['bit flips', (rng) => ({ d: flip(rng, valid(rng), 1 + rng.int(8)), to: 'nas' })],
    ['byte overwrite', (rng) => ({ d: overwrite(rng, valid(rng)), to: 'nas' })],
    ['attribute length', (rng) => ({ d: attributeLength(rng, valid(rng)), to: 'nas' })],
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
    ...statusServerClasses('auth'),
  ];
}

/**
 * Status-Server (RFC 5997) to `port`: signed, with Proxy-States and random attributes, answered (an
 * Access-Accept or an Accounting-Response, judged as every answer on that socket); without a
 * Message-Authenticator, with a wrong one, or signed with another secret: silently discarded.
 */
function statusServerClasses(port: Port): [string, Make][] {
  const attrs = (rng: Rng) => [
    ...Array.from({ length: rng.int(4) }, () => ({ type: Attr.ProxyState, value: rng.bytes(1 + rng.int(253)) })),
    ...(rng.int(3) ? [] : Array.from({ length: 1 + rng.int(5) }, () => randomAttr(rng)).filter((a) => a.type !== Attr.MessageAuthenticator)),
  ];
  const status = (rng: Rng, opts: { secret?: Buffer; ma?: boolean } = {}) => request(rng, attrs(rng), { code: Code.StatusServer, ...opts });
  const prefix = port === 'acct' ? 'acct: ' : '';
  return [
    [`${prefix}Status-Server`, (rng) => ({ d: status(rng), to: 'nas', port })],
    [`${prefix}Status-Server, no or a wrong Message-Authenticator`, (rng) => {
      const d = rng.pick([
        () => status(rng, { ma: false }),
        () => status(rng, { secret: rng.bytes(1 + rng.int(32)) }),
        () => {
          const v = status(rng);
          v[22 + rng.int(16)]! ^= 1 << rng.int(8);
          return v;
        },
      ])();
      return { d, to: 'silent', port };
    }],
  ];
}

/** Where a datagram goes: the authentication port (`server auth-port`) or the accounting port (`server acct-port`). */
type Port = 'auth' | 'acct';
/** A mutation class: (rng, recent datagrams of its table) → datagram, socket, and port when not its table's. */
type Make = (rng: Rng, recent: Buffer[]) => { d: Buffer; to: Target; port?: Port };

const ZERO16 = Buffer.alloc(16);
/** Vendor-Specific (RFC 2865 §5.26): not in packet.ts's table. */
const VENDOR_SPECIFIC = 26;
/** The 4-octet attributes of an Accounting-Request: integers (RFC 2866 §5, RFC 2869 §5.1) and the addresses. */
const INTEGERS = [
  Attr.AcctStatusType, Attr.AcctInputOctets, Attr.AcctOutputOctets, Attr.AcctSessionTime, Attr.AcctTerminateCause,
  Attr.AcctInputGigawords, Attr.AcctOutputGigawords, Attr.AcctDelayTime, Attr.FramedIpAddress, Attr.NasIpAddress,
];

/** MD5 by node:crypto directly: the judge does not use the daemon's crypto.ts for accounting. */
function md5(...parts: Buffer[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/**
 * An Accounting-Request (or, with `code`, any packet signed the same way): as many of `attrs` as fit in
 * 4096 octets, the Request Authenticator MD5(Code+Identifier+Length+16 zero octets+Attributes+Secret)
 * (RFC 2866 §3).
 */
function accounting(rng: Rng, attrs: readonly Attribute[], opts: { code?: number; secret?: Buffer } = {}): Buffer {
  const pkt = encodePacket(opts.code ?? Code.AccountingRequest, rng.int(256), ZERO16, fitting(attrs));
  md5(pkt, opts.secret ?? SECRET).copy(pkt, 4);
  return pkt;
}

/**
 * What a NAS sends (OpenVPN's radiusplugin, a switch): Start, Stop or Interim-Update with a session,
 * sometimes the tunnel address and the caller, the session's time and traffic (32-bit octets and their
 * Gigawords), why it ended, and Proxy-States; Acct-Status-Type first, or everything shuffled.
 */
function acctAttrs(rng: Rng, status = rng.pick([1, 2, 3]), user: Buffer = Buffer.from(rng.pick(['alice', 'bob', 'carol']))): Attribute[] {
  const attrs: Attribute[] = [
    { type: Attr.AcctStatusType, value: u32(status) },
    { type: Attr.UserName, value: user.subarray(0, 253) },
    { type: Attr.AcctSessionId, value: Buffer.from(rng.bytes(8).toString('hex')) },
    { type: Attr.NasIpAddress, value: Buffer.from([127, 0, 0, 1]) },
  ];
  if (rng.int(2)) attrs.push({ type: Attr.FramedIpAddress, value: Buffer.from([10, 8, rng.int(256), rng.int(256)]) });
  if (rng.int(2)) attrs.push({ type: Attr.CallingStationId, value: Buffer.from(`198.51.100.${rng.int(256)}`) });
  if (rng.int(4) === 0) attrs.push({ type: Attr.AcctDelayTime, value: u32(rng.int(30)) });
  if (status !== 1) {
    attrs.push({ type: Attr.AcctSessionTime, value: u32(rng.u32()) }, { type: Attr.AcctInputOctets, value: u32(rng.u32()) }, { type: Attr.AcctOutputOctets, value: u32(rng.u32()) });
    if (rng.int(2)) attrs.push({ type: Attr.AcctInputGigawords, value: u32(rng.int(2) ? rng.int(4) : rng.u32()) }, { type: Attr.AcctOutputGigawords, value: u32(rng.int(2) ? rng.int(4) : rng.u32()) });
    if (status === 2) attrs.push({ type: Attr.AcctTerminateCause, value: u32(rng.int(4) ? 1 + rng.int(18) : rng.u32()) });
  }
  for (let i = rng.int(4); i > 0; i--) attrs.push({ type: Attr.ProxyState, value: rng.bytes(1 + rng.int(40)) });
  if (rng.int(4) === 0) {
    for (let i = attrs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [attrs[i], attrs[j]] = [attrs[j]!, attrs[i]!];
    }
  }
  return attrs;
}

/** What the judge keeps of a datagram sent to the accounting port from the accounting NAS socket. */
interface SentAccounting {
  readonly authenticator: Buffer;
  /** Its Proxy-States, in order (RFC 2865 §5.33: the answer carries them all, in order). */
  readonly proxyStates: readonly Buffer[];
  /**
   * Whether RFC 2866 lets it be answered at all: framing valid (RFC 2865 §3), code 4, the Request
   * Authenticator verifies (§3), the first Acct-Status-Type present and 4 octets (§5.1); or a Status-Server
   * whose Message-Authenticator verifies (RFC 5997). Otherwise it is silently discarded, and an answer
   * is a forbidden reply.
   */
  readonly answerable: boolean;
}

/** Judges a datagram bound for the accounting port (at least 20 octets), independently of the daemon's parser and crypto. */
function judgeAccountingRequest(d: Buffer): SentAccounting {
  const authenticator = Buffer.from(d.subarray(4, 20));
  const no: SentAccounting = { authenticator, proxyStates: [], answerable: false };
  const length = d.readUInt16BE(2);
  if (length < 20 || length > 4096 || length > d.length) return no;
  const proxyStates: Buffer[] = [];
  let statusLength: number | undefined;
  for (let pos = 20; pos < length; ) {
    if (pos + 2 > length) return no;
    const len = d[pos + 1]!;
    if (len < 2 || pos + len > length) return no;
    if (d[pos] === Attr.ProxyState) proxyStates.push(Buffer.from(d.subarray(pos + 2, pos + len)));
    if (d[pos] === Attr.AcctStatusType) statusLength ??= len - 2;
    pos += len;
  }
  if (d[0] === Code.StatusServer) return { authenticator, proxyStates, answerable: statusServerVerifies(d.subarray(0, length)) };
  const verifies = md5(d.subarray(0, 4), ZERO16, d.subarray(20, length), SECRET).equals(authenticator);
  return { authenticator, proxyStates, answerable: d[0] === Code.AccountingRequest && statusLength === 4 && verifies };
}

/**
 * A Status-Server (well framed, up to its Length) may be answered when it holds exactly one
 * Message-Authenticator, 18 octets, equal to HMAC-MD5 over the packet with that value zeroed (RFC 5997
 * §3, RFC 3579 §3.2) — computed here, not by the daemon's crypto.ts.
 */
function statusServerVerifies(pkt: Buffer): boolean {
  const at: number[] = [];
  for (let pos = 20; pos < pkt.length; pos += pkt[pos + 1]!) if (pkt[pos] === Attr.MessageAuthenticator) at.push(pos);
  if (at.length !== 1 || pkt[at[0]! + 1] !== 18) return false;
  const zeroed = Buffer.from(pkt);
  zeroed.fill(0, at[0]! + 2, at[0]! + 18);
  return createHmac('md5', SECRET).update(zeroed).digest().equals(pkt.subarray(at[0]! + 2, at[0]! + 18));
}

/**
 * Judges an answer on the accounting NAS socket against the requests sent with its Identifier: `ok` for
 * a well-formed Accounting-Response (Length exact, no attribute but Proxy-State and Vendor-Specific, so
 * no Message-Authenticator) whose Response Authenticator MD5(Code+ID+Length+RequestAuth+Attributes+Secret)
 * verifies against an answerable request whose Proxy-States it echoes in order; `forbidden` when it
 * verifies only against requests that had to be discarded; `bad` otherwise.
 */
function judgeAccountingAnswer(msg: Buffer, sent: readonly SentAccounting[]): 'ok' | 'bad' | 'forbidden' {
  if (msg.length < 20 || msg[0] !== Code.AccountingResponse || msg.readUInt16BE(2) !== msg.length) return 'bad';
  const proxyStates: Buffer[] = [];
  for (let pos = 20; pos < msg.length; ) {
    const len = msg[pos + 1];
    if (len === undefined || len < 2 || pos + len > msg.length) return 'bad';
    if (msg[pos] === Attr.ProxyState) proxyStates.push(msg.subarray(pos + 2, pos + len));
    else if (msg[pos] !== VENDOR_SPECIFIC) return 'bad';
    pos += len;
  }
  const verified = sent.filter((r) => md5(msg.subarray(0, 4), r.authenticator, msg.subarray(20), SECRET).equals(msg.subarray(4, 20)));
  const echoes = (r: SentAccounting) => r.proxyStates.length === proxyStates.length && r.proxyStates.every((p, i) => p.equals(proxyStates[i]!));
  if (verified.some((r) => r.answerable && echoes(r))) return 'ok';
  return verified.some((r) => !r.answerable) ? 'forbidden' : 'bad';
}

/**
 * The accounting classes, built from valid Accounting-Requests: to the accounting port unless `port`
 * says otherwise; `nas` there is the accounting NAS socket, whose answers judgeAccountingAnswer judges.
 */
function accountingClasses(code: () => string): [string, Make][] {
  const valid = (rng: Rng) => accounting(rng, acctAttrs(rng));
  return [
    ['acct: Start, Stop, Interim-Update', (rng) => ({ d: valid(rng), to: 'nas' })],
    ['acct: other status types', (rng) => ({ d: accounting(rng, acctAttrs(rng, rng.pick([0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, rng.u32()]))), to: 'nas' })],
    ['acct: evil User-Name and Acct-Session-Id', (rng) => {
      const attrs = acctAttrs(rng, undefined, evilName(rng)).map((a) => (a.type === Attr.AcctSessionId ? { type: a.type, value: evilName(rng) } : a));
      return { d: accounting(rng, attrs), to: 'nas' };
    }],
    ['acct: huge Proxy-State', (rng) => {
      const ps = Array.from({ length: 1 + rng.int(17) }, () => ({ type: Attr.ProxyState, value: rng.bytes(200 + rng.int(54)) }));
      return { d: accounting(rng, [...acctAttrs(rng), ...ps]), to: 'nas' };
    }],
    ['acct: padding after Length', (rng) => ({ d: Buffer.concat([valid(rng), rng.bytes(1 + rng.int(64))]), to: 'nas' })],
    ['acct: truncated', (rng) => ({ d: truncate(rng, valid(rng)), to: 'nas' })],
    ['acct: length field', (rng) => ({ d: lengthField(rng, valid(rng)), to: 'nas' })],
    ['acct: bit flips', (rng) => ({ d: flip(rng, valid(rng), 1 + rng.int(8)), to: 'nas' })],
    ['acct: byte overwrite', (rng) => ({ d: overwrite(rng, valid(rng)), to: 'nas' })],
    ['acct: attribute length', (rng) => ({ d: attributeLength(rng, valid(rng)), to: 'nas' })],
    ['acct: other codes', (rng) => ({
      // Signed as an Accounting-Request but of another code, or a valid Access-Request to the wrong port.
      d: rng.int(3) ? accounting(rng, acctAttrs(rng), { code: rng.pick([1, 2, 3, 5, 11, 12, 13, 40, 41, 43, 255, rng.int(256)]) }) : login(rng, 'alice', scrv1('alicepw', code())),
      to: 'nas',
    })],
    ['acct: no Acct-Status-Type', (rng) => ({ d: accounting(rng, acctAttrs(rng).filter((a) => a.type !== Attr.AcctStatusType)), to: 'nas' })],
    ['acct: integers of a wrong length', (rng) => {
      const attrs = acctAttrs(rng);
      const bad = { type: rng.pick(INTEGERS), value: rng.bytes(rng.pick([0, 1, 2, 3, 5, 6, 8, 16, 253])) };
      const at = attrs.findIndex((a) => a.type === bad.type);
      // In place of the right one, or beside it (before it: the first one is the one read).
      if (at >= 0 && rng.int(2)) attrs[at] = bad;
      else attrs.splice(rng.int(attrs.length + 1), 0, bad);
      return { d: accounting(rng, attrs), to: 'nas' };
    }],
    ['acct: random attributes', (rng) => ({ d: accounting(rng, [...acctAttrs(rng), ...Array.from({ length: 1 + rng.int(20) }, () => randomAttr(rng))]), to: 'nas' })],
    ['acct: wrong Request Authenticator', (rng) => {
      const v = Buffer.from(valid(rng));
      // One bit off, or random as an Access-Request's would be.
      if (rng.int(2)) v[4 + rng.int(16)]! ^= 1 << rng.int(8);
      else rng.bytes(16).copy(v, 4);
      return { d: v, to: 'silent' };
    }],
    ['acct: signed with another secret', (rng) => ({ d: accounting(rng, acctAttrs(rng), { secret: rng.bytes(1 + rng.int(32)) }), to: 'silent' })],
    ['acct: altered after signing', (rng) => {
      // Every octet is under the Request Authenticator: any change must be discarded.
      const v = Buffer.from(valid(rng));
      v[rng.int(v.length)]! ^= 1 + rng.int(255);
      return { d: v, to: 'silent' };
    }],
    ['acct: to the authentication port', (rng) => ({ d: valid(rng), to: 'silent', port: 'auth' })],
    ['acct: retransmission', (rng, recent) => ({ d: recent.length ? rng.pick(recent) : valid(rng), to: 'nas' })],
    ['acct: random bytes', (rng) => ({ d: rng.bytes(rng.int(rng.int(2) ? 40 : 4200)), to: 'nas' })],
    ['acct: unknown client', (rng) => ({ d: rng.int(3) ? valid(rng) : rng.bytes(rng.int(4200)), to: 'stranger' })],
    ...statusServerClasses('acct'),
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
  // A second port, not the first (the daemon refuses one port for both).
  let acctPort = await freeUdpPort();
  for (let i = 0; acctPort === port && i < 10; i++) acctPort = await freeUdpPort();
  if (acctPort === port) throw new Error(`no second free UDP port (${port} each time)`);
  const flash = mkdtempSync(join(tmpdir(), 'awplus-fuzz-'));
  writeFileSync(
    join(flash, 'default.cfg'),
    [
      'service 2fa', '2fa lockout failures 100 period 1', 'radius-server local', ' nas 127.0.0.1 key fuzz-secret 2fa', ' user alice password alicepw',
      ` server auth-port ${port}`, ` server acct-port ${acctPort}`, ' server enable', '',
    ].join('\n'),
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
    const [nas, acctNas, silent, stranger, probeSocket, acctProbeSocket] = await Promise.all([
      udp('127.0.0.1'), udp('127.0.0.1'), udp('127.0.0.1'), udp('127.0.0.2'), udp('127.0.0.1'), udp('127.0.0.1'),
    ]);
    sockets.push(nas!, acctNas!, silent!, stranger!, probeSocket!, acctProbeSocket!);
    let forbiddenReplies = 0;
    let badReplies = 0;
    let replies = 0;
    let accountingReplies = 0;
    const sentFromNas = new Map<number, Buffer[]>();
    const sentFromAcct = new Map<number, SentAccounting[]>();
    silent!.on('message', () => forbiddenReplies++);
    stranger!.on('message', () => forbiddenReplies++);
    nas!.on('message', (msg, rinfo: RemoteInfo) => {
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
        rinfo.port === port &&
        [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge].includes(p.code as 2) &&
        p.attributes[0]?.type === Attr.MessageAuthenticator &&
        candidates.some((auth) => checkResponseAuthenticator(p, auth, SECRET) && checkMessageAuthenticator(p, SECRET, auth) === true);
      if (!ok) badReplies++;
    });
    acctNas!.on('message', (msg, rinfo: RemoteInfo) => {
      replies++;
      const verdict = rinfo.port === acctPort ? judgeAccountingAnswer(msg, sentFromAcct.get(msg[1] ?? -1) ?? []) : 'bad';
      if (verdict === 'ok') accountingReplies++;
      else if (verdict === 'forbidden') forbiddenReplies++;
      else badReplies++;
    });
    /** A liveness probe: a valid request from its own socket, answered within 5 s. */
    const prober = (socket: Socket, to: number, make: () => Buffer) => {
      let waiter: (() => void) | undefined;
      socket.on('message', () => waiter?.());
      return () =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 5000);
          waiter = () => {
            clearTimeout(timer);
            waiter = undefined;
            resolve(true);
          };
          socket.send(make(), to, '127.0.0.1');
        });
    };
    const probe = prober(probeSocket!, port, () => login(rng, 'alice', scrv1('alicepw', '000000')));
    const acctProbe = prober(acctProbeSocket!, acctPort, () => accounting(rng, [{ type: Attr.AcctStatusType, value: u32(3) }, { type: Attr.UserName, value: Buffer.from('probe') }, { type: Attr.AcctSessionId, value: rng.bytes(8) }]));

    const table = classes(code);
    const acctTable = accountingClasses(code);
    const counts: Record<string, number> = Object.fromEntries([...table, ...acctTable].map(([n]) => [n, 0]));
    const recent: Buffer[] = [];
    const acctRecent: Buffer[] = [];
    /** Keeps `d` among 256 recent datagrams (for the retransmission classes). */
    const keep = (list: Buffer[], d: Buffer) => {
      if (list.length < 256) list.push(d);
      else list[rng.int(256)] = d;
    };
    /** What was sent with an Identifier, the newest 64 (the answers are judged against them). */
    const remember = <T>(sent: Map<number, T[]>, identifier: number, what: T) => {
      const list = sent.get(identifier) ?? [];
      list.push(what);
      if (list.length > 64) list.shift();
      sent.set(identifier, list);
    };
    let accountingDatagrams = 0;
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
        // A fifth to the accounting classes.
        const accountingClass = rng.int(5) === 0;
        const [name, make] = accountingClass ? acctTable[rng.int(acctTable.length)]! : table[rng.int(table.length)]!;
        const { d, to, port: where = accountingClass ? 'acct' : 'auth' } = make(rng, accountingClass ? acctRecent : recent);
        counts[name]!++;
        if (accountingClass) accountingDatagrams++;
        const socket = to === 'nas' ? (where === 'acct' ? acctNas! : nas!) : to === 'silent' ? silent! : stranger!;
        if (to === 'nas' && d.length >= 20) {
          if (where === 'acct') {
            remember(sentFromAcct, d[1]!, judgeAccountingRequest(d));
            keep(acctRecent, d);
          } else {
            remember(sentFromNas, d[1]!, Buffer.from(d.subarray(4, 20)));
            keep(recent, d);
          }
        }
        socket.send(d, where === 'acct' ? acctPort : port, '127.0.0.1');
      }
      sent += n;
      const answered = await Promise.all([probe(), acctProbe()]);
      probes += answered.length;
      probesUnanswered += answered.filter((ok) => !ok).length;
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
      const num = (text: string, label: string) => Number(new RegExp(`^\\s*${label}\\s*:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
      // Two parts, each with its "Datagrams received": the authentication port's, then "Local RADIUS accounting".
      const at = stats.indexOf('Local RADIUS accounting');
      daemonCounted = at < 0 ? NaN : num(stats.slice(0, at), 'Datagrams received') + num(stats.slice(at), 'Datagrams received') - probes;
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
      accountingDatagrams,
      accountingReplies,
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
