/**
 * OTP primitives over node:crypto, time always a parameter (FreeRADIUS fr_totp_cmp): HOTP (RFC 4226
 * §5.3, HMAC-SHA1, dynamic truncation, 6 digits), TOTP steps (RFC 6238 §4, X = 30 s, T0 = 0) and
 * base32 (RFC 4648 §6) with libpam's lenient decoding.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 6238 §4.1 time step X, in seconds (AW+ and libpam default). */
export const STEP_SECONDS = 30;
/** Digits of a code (libpam and AW+: always 6). */
export const DIGITS = 6;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The TOTP time step of an appliance-clock time in milliseconds. */
export function timeStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / STEP_SECONDS);
}

/** The counter of one HOTP computation (RFC 4226 §5.2: 8 bytes, big-endian); HMAC update copies it at once. */
const COUNTER = Buffer.alloc(8);

/**
 * HOTP value for `counter` as a number below 10^6 (RFC 4226 §5.3). Codes are compared as numbers, as
 * libpam compares them (`hash == (unsigned int)code`): one comparison, no time to learn from, and no
 * string or buffer made per step of a window or a skew search.
 */
export function hotpValue(key: Uint8Array, counter: number): number {
  COUNTER.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 0);
  COUNTER.writeUInt32BE(counter >>> 0, 4);
  const h = createHmac('sha1', key).update(COUNTER).digest();
  const offset = h[19]! & 0x0f;
  const bin = ((h[offset]! & 0x7f) << 24) | (h[offset + 1]! << 16) | (h[offset + 2]! << 8) | h[offset + 3]!;
  return bin % 10 ** DIGITS;
}

/** HOTP value for `counter` as a zero-padded 6-digit string (RFC 4226 §5.3). */
export function hotp(key: Buffer, counter: number): string {
  return String(hotpValue(key, counter)).padStart(DIGITS, '0');
}

/** Compares two codes in constant time (SPEC §5: exact 6-digit strings, leading zeros count). */
export function sameCode(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Decodes base32 as libpam does (base32.c): case-insensitive, spaces, tabs, CR/LF and `-` skipped,
 * `0→O`, `1→L`, `8→B`, trailing `=` padding allowed; anything else → undefined.
 */
export function base32Decode(text: string): Buffer | undefined {
  return canonicalBase32(text) ?? lenientBase32(text);
}

/** Each base32 letter's value by character code; -1 elsewhere. */
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/**
 * The stored form (A-Z and 2-7 only, as every secret is kept) without the lenient rewriting: a login
 * decodes its user's secret each time, so this path is the one that matters.
 */
function canonicalBase32(text: string): Buffer | undefined {
  if (text === '') return undefined;
  const out = Buffer.allocUnsafe(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? VALUE[c]! : -1;
    if (v < 0) return undefined;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[n++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

function lenientBase32(text: string): Buffer | undefined {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase().replace(/0/g, 'O').replace(/1/g, 'L').replace(/8/g, 'B');
  if (clean === '') return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** Base32 without padding (what authenticator apps expect in otpauth URIs). */
export function base32Encode(data: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** A new random secret: 160 bits (libpam 1.11), 32 base32 characters. */
export function randomSecret(): string {
  return base32Encode(randomBytes(20));
}

/** A scratch code: 8 digits, the first 1-9 (randomScratchCodes). */
export const SCRATCH_CODE = /^[1-9]\d{7}$/;

/**
 * Where `code` is among the user's scratch codes, or -1. Compared as numbers, as libpam compares them
 * (check_scratch_codes: `scratchcode == code`): one comparison each, no buffer per code.
 */
export function scratchIndex(scratch: readonly string[], code: string): number {
  if (!SCRATCH_CODE.test(code)) return -1;
  const value = Number(code);
  return scratch.findIndex((c) => Number(c) === value);
}

/** Five scratch codes: 8 digits, first digit 1-9 (libpam google-authenticator.c: re-roll below 10^7). */
export function randomScratchCodes(count = 5): string[] {
  const codes: string[] = [];
  while (codes.length < count) {
    const n = randomBytes(4).readUInt32BE(0) & 0x7fffffff;
    const code = n % 100_000_000;
    if (code >= 10_000_000 && !codes.includes(String(code))) codes.push(String(code));
  }
  return codes;
}
