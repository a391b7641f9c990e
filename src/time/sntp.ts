/**
 * One SNTPv4 exchange (RFC 4330) with one server over UDP, IPv4 or IPv6: build the client packet, send
 * it, wait a bounded time for the answer, reject bogus or unusable answers with a reason, and compute
 * the clock offset and round-trip delay from the four timestamps (RFC 4330 §5, RFC 5905 §8).
 *
 * Local times (T1 when the request leaves, T4 when the answer arrives) come from the `now` function the
 * caller passes: the time source whose error we are measuring. Nothing here reads the host clock.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

/** Seconds from the NTP prime epoch (1900-01-01) to the Unix epoch (1970-01-01) (RFC 5905 §6 Figure 4). */
export const NTP_UNIX_EPOCH_OFFSET_S = 2208988800;

/** NTP packet header length without extension fields or MAC (RFC 5905 §7.3). */
const PACKET_LENGTH = 48;

const TWO_32 = 4294967296;
const TWO_64 = 1n << 64n;

/** Why an answer was not used. */
export type SntpFailure =
  | 'timeout' // nothing usable arrived in time
  | 'network' // the socket could not send (no route, bad address, …)
  | 'aborted' // the caller gave up (stop)
  | 'bad-packet' // shorter than 48 octets or an unknown version (discarded, RFC 4330 §5)
  | 'wrong-mode' // not mode 4 (server) (RFC 4330 §5)
  | 'originate-mismatch' // the originate timestamp is not our transmit timestamp (RFC 5905 §8)
  | 'kiss-o-death' // stratum 0 with a kiss code: DENY, RSTR, RATE, … (RFC 4330 §8, RFC 5905 §7.4)
  | 'unsynchronised' // leap indicator 3, the server's clock is not synchronised (RFC 4330 §5)
  | 'bad-stratum' // stratum 0 without a kiss code, or above 15 (RFC 4330 §5, RFC 5905 §7.3)
  | 'zero-timestamp' // the receive or transmit timestamp is zero (RFC 4330 §5, RFC 5905 §8)
  | 'implausible-time' // the server's time is before `notBefore`
  | 'implausible-offset'; // the offset exceeds `maxOffsetMs`

/** A failed exchange: the reason, and the kiss code for a kiss-o'-death. */
export class SntpError extends Error {
  constructor(
    readonly reason: SntpFailure,
    message: string,
    readonly kissCode?: string,
  ) {
    super(message);
    this.name = 'SntpError';
  }
}

/** A usable answer. Times are milliseconds; `serverTime` is the server's transmit time (T3) as Unix ms. */
export interface SntpSample {
  /** θ = ((T2 − T1) + (T3 − T4)) / 2: add it to the local clock to get the server's time (RFC 4330 §5). */
  readonly offsetMs: number;
  /** δ = (T4 − T1) − (T3 − T2): the round trip minus the server's processing time (RFC 4330 §5). */
  readonly delayMs: number;
  readonly stratum: number;
  readonly leap: number;
  readonly version: number;
  /** The server's reference: a 4-character source for stratum 1, otherwise an IPv4 address or a hash (RFC 5905 §7.3). */
  readonly referenceId: string;
  /** log2 of the server clock's precision in seconds (RFC 5905 §7.3). */
  readonly precision: number;
  readonly rootDelayMs: number;
  readonly rootDispersionMs: number;
  readonly serverTime: number;
  /** Local time when the answer arrived (T4). */
  readonly localTime: number;
}

export interface SntpQueryOptions {
  readonly address: string;
  /** UDP port of the server [123]. */
  readonly port?: number;
  /** The local time source whose offset is measured (T1, T4), in Unix ms. */
  readonly now: () => number;
  /** How long to wait for a usable answer [2000 ms]. */
  readonly timeoutMs?: number;
  /** Reject answers whose |offset| is larger (implausible); no bound when omitted. */
  readonly maxOffsetMs?: number;
  /** Reject answers that put the server's time before this Unix ms (a server that lost its date). */
  readonly notBefore?: number;
  /**
   * Send the local time as the transmit timestamp instead of a random nonce. The nonce (the default)
   * tells an observer nothing about our clock and is 64 unpredictable bits that an off-path attacker
   * must echo in the originate field (RFC 5905 §8; the IETF NTP data-minimisation draft recommends it).
   */
  readonly localTransmit?: boolean;
  readonly signal?: AbortSignal;
}

/** The Unix ms `ms` as a 64-bit NTP timestamp (seconds since 1900 modulo 2^32 . fraction) (RFC 5905 §6). */
export function toNtpTimestamp(ms: number): bigint {
  const seconds = Math.floor(ms / 1000);
  const fraction = Math.floor(((ms - seconds * 1000) / 1000) * TWO_32);
  // Seconds wrap modulo 2^32 at the end of each era (era 1 begins 2036-02-07, RFC 5905 §6).
  const ntpSeconds = (((seconds + NTP_UNIX_EPOCH_OFFSET_S) % TWO_32) + TWO_32) % TWO_32;
  return (BigInt(ntpSeconds) << 32n) | BigInt(Math.min(fraction, TWO_32 - 1));
}

/**
 * A 64-bit NTP timestamp as Unix ms, in the era that puts it nearest `pivot` (Unix ms). The timestamp
 * does not carry its era; RFC 4330 §3 resolves it with the top bit (1968–2104), RFC 5905 §6 with a
 * nearby time known otherwise: we use our own clock, right to ±68 years.
 */
export function fromNtpTimestamp(ts: bigint, pivot: number): number {
  const seconds = Number(ts >> 32n);
  const fraction = Number(ts & 0xffffffffn);
  const base = seconds - NTP_UNIX_EPOCH_OFFSET_S + fraction / TWO_32;
  const era = Math.round((pivot / 1000 - base) / TWO_32);
  return (base + era * TWO_32) * 1000;
}

/**
 * a − b in ms, both 64-bit NTP timestamps: the difference is taken modulo 2^64 as a signed number, so it
 * is right across an era boundary as long as the true difference is under 68 years (RFC 5905 §6).
 */
export function ntpDiffMs(a: bigint, b: bigint): number {
  const d = BigInt.asIntN(64, (a - b + TWO_64) % TWO_64);
  const whole = Number(d >> 32n);
  const fraction = Number(d & 0xffffffffn);
  return (whole + fraction / TWO_32) * 1000;
}

/** The fields of an NTP header (RFC 5905 §7.3 Figure 8). */
export interface NtpPacket {
  readonly leap: number;
  readonly version: number;
  readonly mode: number;
  readonly stratum: number;
  readonly poll: number;
  readonly precision: number;
  readonly rootDelayMs: number;
  readonly rootDispersionMs: number;
  readonly referenceId: Buffer;
  readonly reference: bigint;
  readonly originate: bigint;
  readonly receive: bigint;
  readonly transmit: bigint;
}

/** Parses the 48-octet header; undefined when too short. Extension fields and a MAC are ignored. */
export function parseNtpPacket(buf: Buffer): NtpPacket | undefined {
  if (buf.length < PACKET_LENGTH) return undefined;
  // Root delay and dispersion are 16.16 fixed point seconds (RFC 5905 §6 "NTP Short Format").
  const short = (off: number) => (buf.readUInt16BE(off) + buf.readUInt16BE(off + 2) / 65536) * 1000;
  return {
    leap: buf[0]! >> 6,
    version: (buf[0]! >> 3) & 7,
    mode: buf[0]! & 7,
    stratum: buf[1]!,
    poll: buf.readInt8(2),
    precision: buf.readInt8(3),
    rootDelayMs: short(4),
    rootDispersionMs: short(8),
    referenceId: Buffer.from(buf.subarray(12, 16)),
    reference: buf.readBigUInt64BE(16),
    originate: buf.readBigUInt64BE(24),
    receive: buf.readBigUInt64BE(32),
    transmit: buf.readBigUInt64BE(40),
  };
}

/** A client request: LI 0, VN 4, mode 3, everything zero but the transmit timestamp (RFC 4330 §5). */
export function clientPacket(transmit: bigint): Buffer {
  const buf = Buffer.alloc(PACKET_LENGTH);
  buf[0] = (0 << 6) | (4 << 3) | 3;
  buf.writeBigUInt64BE(transmit, 40);
  return buf;
}

/** A kiss code is four printable US-ASCII characters, NUL-padded (RFC 5905 §7.4); undefined otherwise. */
export function kissCode(refid: Buffer): string | undefined {
  const text = refid.toString('latin1').replace(/\0+$/, '');
  return /^[\x20-\x7e]{1,4}$/.test(text) ? text.trim() || undefined : undefined;
}

/** The reference id as `show ntp` prints it: the ASCII source for stratum 0/1, else a dotted quad (RFC 5905 §7.3). */
export function referenceIdText(refid: Buffer, stratum: number): string {
  if (stratum <= 1) return kissCode(refid) ?? '';
  return [...refid].join('.');
}

/**
 * Checks a reply that matched our request and computes the sample, or throws the reason (RFC 4330 §5
 * "the client … MUST discard" list, RFC 5905 §8 bogus-packet tests). `t1`/`t4` are local Unix ms.
 */
export function evaluateReply(p: NtpPacket, t1: number, t4: number, limits: { maxOffsetMs?: number; notBefore?: number } = {}): SntpSample {
  const code = p.stratum === 0 ? kissCode(p.referenceId) : undefined;
  // A kiss-o'-death is stratum 0 with an ASCII code in the reference id (RFC 4330 §8). Checked before the
  // leap indicator: a KoD often also has LI 3, and its code (DENY, RSTR, RATE) tells the poller what to do.
  if (code !== undefined) throw new SntpError('kiss-o-death', `kiss-o'-death ${code}`, code);
  // LI 3: "alarm condition (clock not synchronized)" (RFC 4330 §4, §5).
  if (p.leap === 3) throw new SntpError('unsynchronised', 'server clock not synchronised (leap indicator 3)');
  // Stratum 0 without a code is "unspecified or invalid"; 16 is unsynchronised and 17–255 reserved (RFC 5905 §7.3).
  if (p.stratum === 0 || p.stratum > 15) throw new SntpError('bad-stratum', `stratum ${p.stratum}`);
  // RFC 4330 §5: "the Transmit Timestamp field is nonzero"; RFC 5905 §8: a zero receive timestamp is bogus.
  if (p.transmit === 0n || p.receive === 0n) throw new SntpError('zero-timestamp', `${p.transmit === 0n ? 'transmit' : 'receive'} timestamp is zero`);

  const T1 = toNtpTimestamp(t1);
  const T4 = toNtpTimestamp(t4);
  // RFC 4330 §5: θ = ((T2 − T1) + (T3 − T4)) / 2, δ = (T4 − T1) − (T3 − T2), in 64-bit modular arithmetic.
  const offsetMs = (ntpDiffMs(p.receive, T1) + ntpDiffMs(p.transmit, T4)) / 2;
  const delayMs = ntpDiffMs(T4, T1) - ntpDiffMs(p.transmit, p.receive);
  const serverTime = fromNtpTimestamp(p.transmit, t4);
  if (limits.notBefore !== undefined && serverTime < limits.notBefore) {
    throw new SntpError('implausible-time', `server time ${new Date(serverTime).toISOString()} is before ${new Date(limits.notBefore).toISOString()}`);
  }
  if (limits.maxOffsetMs !== undefined && !(Math.abs(offsetMs) <= limits.maxOffsetMs)) {
    throw new SntpError('implausible-offset', `offset ${(offsetMs / 1000).toFixed(3)} s exceeds ${(limits.maxOffsetMs / 1000).toFixed(3)} s`);
  }
  return {
    offsetMs,
    delayMs,
    stratum: p.stratum,
    leap: p.leap,
    version: p.version,
    referenceId: referenceIdText(p.referenceId, p.stratum),
    precision: p.precision,
    rootDelayMs: p.rootDelayMs,
    rootDispersionMs: p.rootDispersionMs,
    serverTime,
    localTime: t4,
  };
}

/**
 * Sends one request to ADDR:PORT and resolves with the sample, or rejects with an SntpError.
 *
 * The socket is connected to the server, so the kernel drops datagrams from any other address or port.
 * A reply that fails the match tests (short, wrong version or mode, wrong originate timestamp) is a
 * stray or forged packet: it is discarded and the wait goes on (RFC 5905 §8), so a forger cannot cut
 * off the real answer; if nothing better arrives the error names the last discard. A reply that
 * matches but is unusable (kiss-o'-death, unsynchronised, …) came from the server: it ends the exchange.
 */
export function sntpQuery(options: SntpQueryOptions): Promise<SntpSample> {
  const { address, port = 123, now, timeoutMs = 2000 } = options;
  return new Promise<SntpSample>((resolve, reject) => {
    const family = isIP(address);
    if (family === 0) {
      reject(new SntpError('network', `not an IP address: ${address}`));
      return;
    }
    if (options.signal?.aborted) {
      reject(new SntpError('aborted', 'aborted'));
      return;
    }
    const socket: Socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    let done = false;
    let discarded: SntpError | undefined;
    let t1 = 0;
    let transmit = 0n;

    const finish = (error: SntpError | undefined, sample?: SntpSample) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {}); // late errors after close have nowhere to go
      try {
        socket.close();
      } catch {
        // already closed
      }
      if (error) reject(error);
      else resolve(sample!);
    };
    const onAbort = () => finish(new SntpError('aborted', 'aborted'));
    const timer = setTimeout(() => {
      finish(discarded ? new SntpError(discarded.reason, `no valid answer in ${timeoutMs} ms (discarded: ${discarded.message})`) : new SntpError('timeout', `no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    options.signal?.addEventListener('abort', onAbort);

    // On a connected socket an ICMP port unreachable comes back as ECONNREFUSED: no need to wait out the timeout.
    socket.on('error', (e: NodeJS.ErrnoException) => finish(new SntpError('network', e.code === 'ECONNREFUSED' ? 'refused (port unreachable)' : e.message)));
    socket.on('message', (buf) => {
      const t4 = now();
      const p = parseNtpPacket(buf);
      if (!p || p.version < 1 || p.version > 4) {
        discarded = new SntpError('bad-packet', p ? `version ${p.version}` : `${buf.length}-octet packet`);
        return;
      }
      // RFC 4330 §5: the mode of a reply to a mode-3 request must be 4 (server).
      if (p.mode !== 4) {
        discarded = new SntpError('wrong-mode', `mode ${p.mode}`);
        return;
      }
      // RFC 5905 §8 (and RFC 4330 §5): the originate timestamp must be the transmit timestamp we sent.
      if (p.originate !== transmit) {
        discarded = new SntpError('originate-mismatch', 'originate timestamp does not match the request');
        return;
      }
      try {
        finish(undefined, evaluateReply(p, t1, t4, options));
      } catch (e) {
        finish(e instanceof SntpError ? e : new SntpError('bad-packet', (e as Error).message));
      }
    });
    socket.connect(port, address, () => {
      if (done) return;
      t1 = now();
      // The server copies the request's Transmit Timestamp into the reply's Originate Timestamp
      // untouched (RFC 4330 §5, server side), whatever it holds: a nonce works with any server.
      transmit = options.localTransmit ? toNtpTimestamp(t1) : randomBytes(8).readBigUInt64BE(0);
      if (transmit === 0n) transmit = 1n; // an all-zero originate would look like "no request" (RFC 5905 §8)
      socket.send(clientPacket(transmit), (e) => {
        if (e) finish(new SntpError('network', e.message));
      });
    });
  });
}
