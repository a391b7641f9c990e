/**
 * `log host ADDR [port N]`: every audit event as one RFC 5424 syslog message over UDP (RFC 5426) to
 * each configured host, IPv4 or IPv6. Fire and forget: the caller (the RADIUS path among others) never
 * waits, never sees an error; sends in flight are bounded and what does not fit is counted as dropped.
 *
 *   <86>1 2026-11-30T13:14:49.123Z core1 awplus 4242 radius-auth [awplus@32473 user="alice" result="accept"] radius-auth user=alice result=accept
 *
 * Choices:
 * - Facility authpriv (10) by default: every audit event is a security/authorization message (RFC 5424
 *   §6.2.1 Table 1), and authpriv is the one receivers keep private: Debian's rsyslog writes
 *   `auth,authpriv.*` to the root-only auth.log and keeps authpriv out of the world-readable syslog,
 *   which is where user names and client addresses belong. `facility` changes it (local7 is 23).
 * - Severity from the event level: error → 3 (Error), info → 6 (Informational) (Table 2).
 * - SD-ID `awplus@32473`: 32473 is the private enterprise number IANA reserves for documentation
 *   (RFC 5612), the one RFC 5424's own examples use. A vendor with its own PEN sets `sdId`.
 * - TIMESTAMP in UTC with milliseconds (`Z`, RFC 5424 §6.2.3): unambiguous whatever `clock timezone` says.
 * - Messages fit `maxMessageBytes` [1452: one unfragmented datagram on Ethernet over IPv6 (1500 − 40 −
 *   8), as RFC 5426 §3.2 asks senders to avoid fragmentation]; parameters that do not fit are left out
 *   and the element says `truncated="true"`.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Log } from '../util/log.ts';
import { terminalText } from '../util/terminal-text.ts';
import { redactFields } from './redact.ts';

/** One `log host` line. */
export interface SyslogHost {
  readonly address: string;
  /** [514, RFC 5426 §3.3] */
  readonly port?: number;
}

/** One audit event. */
export interface SyslogEvent {
  readonly time: number;
  readonly level: string;
  readonly event: string;
  readonly fields: Record<string, unknown>;
}

export interface SyslogFormat {
  readonly hostname: string;
  readonly procId: string;
  /** [10, authpriv] */
  readonly facility?: number;
  /** ['awplus'] */
  readonly appName?: string;
  /** ['awplus@32473'] */
  readonly sdId?: string;
  /** [1452] */
  readonly maxBytes?: number;
}

export interface SyslogOptions {
  /** The appliance clock (TIMESTAMP of events logged through `info`/`error`). */
  readonly now: () => number;
  /** The appliance hostname, asked for each message so `hostname` changes show at once. */
  readonly hostname: () => string;
  /** PROCID [process.pid]. */
  readonly procId?: string | number;
  readonly facility?: number;
  readonly appName?: string;
  readonly sdId?: string;
  readonly maxMessageBytes?: number;
  /** Datagrams handed to the kernel but not yet sent, at most [256]; more are dropped and counted. */
  readonly maxInFlight?: number;
}

export interface SyslogHostStats {
  readonly address: string;
  readonly port: number;
  readonly sent: number;
  readonly errors: number;
}

export interface SyslogStats {
  readonly sent: number;
  /** Send errors (no route, unreachable, …): counted, never thrown (UDP syslog has no delivery guarantee anyway, RFC 5426). */
  readonly errors: number;
  /** Messages not sent because too many were in flight, or the event could not be formatted. */
  readonly dropped: number;
  /** Fields removed because their name looked like a secret. */
  readonly redacted: number;
  readonly hosts: readonly SyslogHostStats[];
}

/** RFC 5424 §6.2.1 Table 2, by our level names. */
const SEVERITY: Record<string, number> = { emerg: 0, alert: 1, crit: 2, error: 3, err: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7 };

export const FACILITY_AUTHPRIV = 10;
export const FACILITY_LOCAL7 = 23;

/** RFC 5424 §6: PRINTUSASCII is %d33-126. */
const PRINTUSASCII = /[^\x21-\x7e]/g;

/** A header field: PRINTUSASCII only, at most `max` characters, `-` (NILVALUE) when empty (RFC 5424 §6.2). */
function headerField(text: string, max: number): string {
  const t = text.replace(PRINTUSASCII, '_').slice(0, max);
  return t === '' ? '-' : t;
}

/** SD-NAME: 1–32 PRINTUSASCII except `=`, SP, `]`, `"` (RFC 5424 §6.3.3). */
export function sdName(name: string): string {
  return name.replace(/[^\x21-\x7e]|[=\]"]/g, '_').slice(0, 32);
}

/** PARAM-VALUE escaping: `"`, `\` and `]` get a backslash (RFC 5424 §6.3.3). */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** A field value as text: strings as they are, objects as JSON. */
function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.toISOString() : 'Invalid Date';
  if (typeof v === 'object' && v !== null) {
    try {
      return JSON.stringify(v) ?? '';
    } catch {
      return '[unserializable]';
    }
  }
  return String(v);
}

/** At most `max` UTF-8 octets of `s`, cut at a character boundary. */
function fitUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}

const MAX_VALUE_CHARS = 512;

/** One RFC 5424 message for `e` (fields already redacted by the caller, or not: see SyslogSender). */
export function formatSyslog(e: SyslogEvent, f: SyslogFormat): Buffer {
  const facility = f.facility ?? FACILITY_AUTHPRIV;
  const severity = SEVERITY[e.level.toLowerCase()] ?? 6;
  const time = new Date(e.time);
  // TIMESTAMP is RFC 3339 with a 4-digit year (RFC 5424 §6.2.3); anything else is NILVALUE.
  const stamp = Number.isFinite(e.time) && time.getUTCFullYear() >= 0 && time.getUTCFullYear() <= 9999 ? time.toISOString() : '-';
  const header = [
    `<${facility * 8 + severity}>1`,
    stamp,
    headerField(f.hostname, 255), // RFC 5424 §6.2.4
    headerField(f.appName ?? 'awplus', 48), // §6.2.5
    headerField(f.procId, 128), // §6.2.6
    headerField(e.event, 32), // §6.2.7 MSGID
  ].join(' ');
  const max = f.maxBytes ?? 1452;
  const sdId = f.sdId ?? 'awplus@32473';

  const entries = Object.entries(e.fields).filter(([, v]) => v !== undefined);
  const params: string[] = [];
  const truncatedMark = ' truncated="true"';
  // Room for the header, the brackets, the SD-ID and a possible truncation mark; the rest is for params.
  let room = max - Buffer.byteLength(header) - 2 - Buffer.byteLength(sdId) - 2 - truncatedMark.length;
  let truncated = false;
  for (const [k, v] of entries) {
    const name = sdName(k);
    if (name === '') continue;
    // Control characters become text, as on the terminal (util/terminal-text.ts): a user name from a
    // RADIUS packet can hold a newline, and a receiver that writes one line per message would start a
    // forged line with it (log injection); a reader on a terminal must not get escape sequences either.
    let text = terminalText(valueText(v));
    if (text.length > MAX_VALUE_CHARS) {
      text = text.slice(0, MAX_VALUE_CHARS);
      truncated = true;
    }
    const param = ` ${name}="${escapeParamValue(text)}"`;
    const n = Buffer.byteLength(param);
    if (n > room) {
      truncated = true;
      continue;
    }
    params.push(param);
    room -= n;
  }
  const sd = `[${sdId}${params.join('')}${truncated ? truncatedMark : ''}]`;
  const head = `${header} ${sd}`;

  // MSG: a short human line like `show log` prints. UTF-8 MSG starts with a BOM (RFC 5424 §6.4); plain
  // ASCII needs none.
  const human = terminalText([e.event, ...entries.map(([k, v]) => `${k}=${valueText(v)}`)].join(' '));
  const bom = /^[\x00-\x7f]*$/.test(human) ? '' : '\ufeff';
  const msg = fitUtf8(bom + human, max - Buffer.byteLength(head) - 1);
  return Buffer.from(msg.length <= bom.length ? head : `${head} ${msg}`);
}

const keyOf = (address: string, port: number) => `${address.toLowerCase()}|${port}`;

/** A socket and the sends it still owes a callback for. */
interface Channel {
  readonly socket: Socket;
  pending: number;
  dead: boolean;
}

interface HostState {
  address: string;
  port: number;
  family: 4 | 6;
  sent: number;
  errors: number;
}

/** Sends audit events to the `log host`s. Use as a Log, or `send` with an explicit time. */
export class SyslogSender implements Log {
  private hosts: HostState[] = [];
  private readonly channels: { 4?: Channel; 6?: Channel } = {};
  private inFlight = 0;
  private dropped = 0;
  private redacted = 0;
  private errors = 0;
  private closed = false;
  private drained: (() => void) | undefined;
  private readonly procId: string;
  private readonly maxInFlight: number;

  constructor(private readonly options: SyslogOptions) {
    const sdId = options.sdId ?? 'awplus@32473';
    // SD-ID: an SD-NAME with exactly one `@` followed by a private enterprise number (RFC 5424 §6.3.2).
    if (!/^[\x21-\x7e]{1,32}$/.test(sdId) || /[=\]" ]/.test(sdId) || !/^[^@]+@\d+(\.\d+)*$/.test(sdId)) throw new RangeError(`invalid SD-ID ${sdId}`);
    this.procId = String(options.procId ?? process.pid);
    this.maxInFlight = options.maxInFlight ?? 256;
  }

  /** Follows the `log host` lines. Counters stay with hosts still configured. Throws on a non-IP address. */
  apply(hosts: readonly SyslogHost[]): void {
    const old = new Map(this.hosts.map((h) => [keyOf(h.address, h.port), h]));
    const next: HostState[] = [];
    for (const h of hosts) {
      const family = isIP(h.address);
      if (family === 0) throw new RangeError(`log host: not an IP address: ${h.address}`);
      const port = h.port ?? 514;
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`log host: bad port ${port}`);
      const k = keyOf(h.address, port);
      if (next.some((n) => keyOf(n.address, n.port) === k)) continue;
      next.push(old.get(k) ?? { address: h.address, port, family: family as 4 | 6, sent: 0, errors: 0 });
    }
    this.hosts = next;
  }

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.send({ time: this.options.now(), level: 'info', event, fields });
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.send({ time: this.options.now(), level: 'error', event, fields });
  }

  /** Queues the event for every host and returns at once; never throws. */
  send(e: SyslogEvent): void {
    if (this.closed || this.hosts.length === 0) return;
    let buf: Buffer;
    try {
      const r = redactFields(e.fields);
      this.redacted += r.dropped;
      buf = formatSyslog({ ...e, fields: r.fields }, {
        hostname: this.options.hostname(),
        procId: this.procId,
        facility: this.options.facility,
        appName: this.options.appName,
        sdId: this.options.sdId,
        maxBytes: this.options.maxMessageBytes,
      });
    } catch {
      this.dropped += this.hosts.length;
      return;
    }
    for (const h of this.hosts) {
      if (this.inFlight >= this.maxInFlight) {
        this.dropped++;
        continue;
      }
      const ch = this.channel(h.family);
      try {
        ch.pending++;
        this.inFlight++;
        ch.socket.send(buf, h.port, h.address, (err) => {
          if (ch.dead) return; // already written off by closeChannel
          ch.pending--;
          this.inFlight--;
          if (err) {
            h.errors++;
            this.errors++;
          } else h.sent++;
          if (this.inFlight === 0) this.drained?.();
        });
      } catch {
        ch.pending--;
        this.inFlight--;
        h.errors++;
        this.errors++;
      }
    }
  }

  stats(): SyslogStats {
    return {
      sent: this.hosts.reduce((n, h) => n + h.sent, 0),
      errors: this.errors,
      dropped: this.dropped,
      redacted: this.redacted,
      hosts: this.hosts.map(({ address, port, sent, errors }) => ({ address, port, sent, errors })),
    };
  }

  /** Stops sending; waits up to `graceMs` for datagrams in flight, then closes the sockets. */
  async close(graceMs = 1000): Promise<void> {
    this.closed = true;
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.closeChannel(4);
    this.closeChannel(6);
  }

  private channel(family: 4 | 6): Channel {
    let ch = this.channels[family];
    if (!ch) {
      const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
      const made: Channel = { socket, pending: 0, dead: false };
      // A socket error (e.g. the implicit bind failing) is counted; the socket is replaced on next use.
      socket.on('error', () => {
        this.errors++;
        if (this.channels[family] === made) this.closeChannel(family);
      });
      // Not what keeps the daemon alive: its listeners do that.
      socket.unref();
      ch = this.channels[family] = made;
    }
    return ch;
  }

  /** Closes a socket; sends it still owed a callback for are counted as errors, not waited for. */
  private closeChannel(family: 4 | 6): void {
    const ch = this.channels[family];
    if (!ch) return;
    delete this.channels[family];
    ch.dead = true;
    this.inFlight -= ch.pending;
    this.errors += ch.pending;
    ch.pending = 0;
    try {
      ch.socket.close();
    } catch {
      // already closed
    }
  }
}
