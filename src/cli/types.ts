/**
 * Parameter types: how a word typed for a `<name:type>` variable is validated and converted before a
 * handler sees it. The grammar's `types.cli` names a validator from this registry; the app may add its
 * own (e.g. `flash-file`) with `extend`.
 */

import { isMailbox } from '../util/email-address.ts';
import { canonicalIp } from '../util/ip.ts';

/** Result of validating one word. */
export type Validated = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

/** A validator gets the typed word and the optional argument from `types.cli` (`range:1-15`). */
export type Validator = (word: string, arg: string | undefined) => Validated;

const ok = (value: unknown): Validated => ({ ok: true, value });
const no: Validated = { ok: false };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// RFC 1123 §2.1 host name label; AW+ hostnames also allow '_' and '.' [INFERRED from the Ansible prompt regex S12]
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** Parses the `LO-HI` argument of a range type. */
export function parseRange(arg: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(arg);
  if (!m) throw new Error(`bad range "${arg}"`);
  return [Number(m[1]), Number(m[2])];
}

/** The generic validators every grammar may use. */
export const builtinValidators: Record<string, Validator> = {
  word: (w) => ok(w),
  // LINE is consumed by the matcher (rest of the line); the value arrives already joined.
  line: (w) => ok(w),
  range: (w, arg) => {
    if (!/^\d{1,10}$/.test(w)) return no;
    const [lo, hi] = parseRange(arg ?? '');
    const n = Number(w);
    return n >= lo && n <= hi ? ok(n) : no;
  },
  ipv4: (w) => (IPV4.test(w) ? ok(w) : no),
  // IPv4 or IPv6, IPv6 in its canonical form (RFC 5952) so that equal addresses compare equal.
  ip: (w) => {
    const c = canonicalIp(w);
    return c !== undefined ? ok(c) : no;
  },
  hostname: (w) => (HOSTNAME.test(w) ? ok(w) : no),
  // A server: a host name, or an IPv4 or IPv6 address.
  host: (w) => {
    const c = canonicalIp(w);
    return c !== undefined ? ok(c) : HOSTNAME.test(w) ? ok(w) : no;
  },
  email: (w) => (isMailbox(w) ? ok(w) : no),
  time: (w) => {
    const m = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(w);
    if (!m) return no;
    const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return h < 24 && mi < 60 && s < 60 ? ok({ hours: h, minutes: mi, seconds: s }) : no;
  },
  // Month name, any unique prefix of at least three letters (AW+ `clock set … Jan 2024`) [INFERRED].
  month: (w) => {
    const lw = w.toLowerCase();
    if (lw.length < 3) return no;
    const i = MONTHS.findIndex((m) => m.startsWith(lw));
    return i >= 0 ? ok(i + 1) : no;
  },
};

/**
 * Validators that accept nearly any word: they rank below a keyword prefix (`mail smtpserver t` is
 * `tls`, not a server named t). Specific shapes (ranges, A.B.C.D, times) rank with keyword prefixes.
 */
export const looseValidators = new Set(['word', 'line', 'hostname', 'host']);
