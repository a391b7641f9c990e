/**
 * crypt(3) password hashes as AW+ prints them in running-config (`username manager privilege 15
 * password 8 $1$bJoVec4D$JwOJGPr7YqoExA0GVasdE0`, awplus-spec.md §4.7 [FOUND S12]). New passwords
 * are hashed with SHA-512-crypt; `$1$` (MD5-crypt), `$5$` and `$6$` hashes pasted from a real
 * device verify too, so its config boots here with working logins.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;

/** crypt's base-64: 24 bits at a time, least significant 6 bits first. */
function encode(bytes: Buffer, groups: readonly (readonly [number, number, number, number])[]): string {
  let out = '';
  for (const [b2, b1, b0, n] of groups) {
    let w = ((b2 < 0 ? 0 : bytes[b2]!) << 16) | ((b1 < 0 ? 0 : bytes[b1]!) << 8) | bytes[b0]!;
    for (let i = 0; i < n; i++) {
      out += ALPHABET[w & 0x3f];
      w >>= 6;
    }
  }
  return out;
}

/** Byte order of the final encoding (Drepper, "Unix crypt using SHA-256 and SHA-512", steps 22). */
const SHA512_ORDER: [number, number, number, number][] = [
  [0, 21, 42, 4], [22, 43, 1, 4], [44, 2, 23, 4], [3, 24, 45, 4], [25, 46, 4, 4], [47, 5, 26, 4], [6, 27, 48, 4],
  [28, 49, 7, 4], [50, 8, 29, 4], [9, 30, 51, 4], [31, 52, 10, 4], [53, 11, 32, 4], [12, 33, 54, 4], [34, 55, 13, 4],
  [56, 14, 35, 4], [15, 36, 57, 4], [37, 58, 16, 4], [59, 17, 38, 4], [18, 39, 60, 4], [40, 61, 19, 4], [62, 20, 41, 4],
  [-1, -1, 63, 2],
];
const SHA256_ORDER: [number, number, number, number][] = [
  [0, 10, 20, 4], [21, 1, 11, 4], [12, 22, 2, 4], [3, 13, 23, 4], [24, 4, 14, 4], [15, 25, 5, 4], [6, 16, 26, 4],
  [27, 7, 17, 4], [18, 28, 8, 4], [9, 19, 29, 4], [-1, 31, 30, 3],
];
const MD5_ORDER: [number, number, number, number][] = [
  [0, 6, 12, 4], [1, 7, 13, 4], [2, 8, 14, 4], [3, 9, 15, 4], [4, 10, 5, 4], [-1, -1, 11, 2],
];

/** `count` bytes of `block` repeated. */
function repeatTo(block: Buffer, count: number): Buffer {
  const out = Buffer.alloc(count);
  for (let i = 0; i < count; i += block.length) block.copy(out, i, 0, Math.min(block.length, count - i));
  return out;
}

/** Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512" (2007), steps 1-21. */
function shaCrypt(alg: 'sha256' | 'sha512', password: string, saltIn: string, rounds: number | undefined): string {
  const H = (...parts: Buffer[]) => {
    const h = createHash(alg);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(saltIn.slice(0, 16), 'utf8');
  const n = rounds === undefined ? ROUNDS_DEFAULT : Math.min(ROUNDS_MAX, Math.max(ROUNDS_MIN, Math.floor(rounds)));
  const B = H(P, S, P);
  const a = createHash(alg).update(P).update(S).update(repeatTo(B, P.length));
  for (let len = P.length; len > 0; len >>= 1) a.update(len & 1 ? B : P);
  const A = a.digest();
  const Pp = repeatTo(H(...Array<Buffer>(P.length).fill(P)), P.length);
  const Sp = repeatTo(H(...Array<Buffer>(16 + A[0]!).fill(S)), S.length);
  let C = A;
  for (let i = 0; i < n; i++) {
    const h = createHash(alg);
    h.update(i & 1 ? Pp : C);
    if (i % 3) h.update(Sp);
    if (i % 7) h.update(Pp);
    h.update(i & 1 ? C : Pp);
    C = h.digest();
  }
  const prefix = alg === 'sha512' ? '$6$' : '$5$';
  const roundsPart = rounds === undefined ? '' : `rounds=${n}$`;
  return `${prefix}${roundsPart}${S.toString('utf8')}$${encode(C, alg === 'sha512' ? SHA512_ORDER : SHA256_ORDER)}`;
}

/** SHA-512-crypt (`$6$`); `rounds` is printed only when given, as glibc does. */
export function sha512Crypt(password: string, salt: string, rounds?: number): string {
  return shaCrypt('sha512', password, salt, rounds);
}

/** SHA-256-crypt (`$5$`). */
export function sha256Crypt(password: string, salt: string, rounds?: number): string {
  return shaCrypt('sha256', password, salt, rounds);
}

/** Poul-Henning Kamp's MD5-crypt (`$1$`, FreeBSD crypt-md5.c): weak, accepted only to verify old configs. */
export function md5Crypt(password: string, saltIn: string): string {
  const md5 = (...parts: Buffer[]) => {
    const h = createHash('md5');
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(saltIn.slice(0, 8), 'utf8');
  const magic = Buffer.from('$1$');
  const alt = md5(P, S, P);
  const ctx = createHash('md5').update(P).update(magic).update(S);
  for (let pl = P.length; pl > 0; pl -= 16) ctx.update(alt.subarray(0, Math.min(16, pl)));
  for (let i = P.length; i; i >>= 1) ctx.update(i & 1 ? Buffer.from([0]) : P.subarray(0, 1));
  let final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const h = createHash('md5');
    h.update(i & 1 ? P : final);
    if (i % 3) h.update(S);
    if (i % 7) h.update(P);
    h.update(i & 1 ? final : P);
    final = h.digest();
  }
  return `$1$${S.toString('utf8')}$${encode(final, MD5_ORDER)}`;
}

const SALT = /[./0-9A-Za-z]/;

/** A random salt of `length` characters of the crypt alphabet (64 symbols: one byte, no bias). */
function randomSalt(length: number): string {
  let s = '';
  for (const b of randomBytes(length)) s += ALPHABET[b & 0x3f];
  return s;
}

/** Hashes a new password with SHA-512-crypt and a random 16-character salt. */
export function hashPassword(password: string): string {
  return sha512Crypt(password, randomSalt(16));
}

const HASH = /^\$(1|5|6)\$(?:rounds=(\d{1,9})\$)?([^$]{0,16})\$([./0-9A-Za-z]+)$/;
const DIGEST_LENGTH: Record<string, number> = { '1': 22, '5': 43, '6': 86 };

/** Whether `s` is a well-formed `$1$`, `$5$` or `$6$` hash (the `password 8 HASH` form). */
export function isCryptHash(s: string): boolean {
  const m = HASH.exec(s);
  if (!m) return false;
  const [, id, rounds, salt, digest] = m;
  if (id === '1' && (rounds !== undefined || salt!.length > 8)) return false;
  if (![...salt!].every((c) => SALT.test(c))) return false;
  return digest!.length === DIGEST_LENGTH[id!];
}

/** Checks `password` against a stored hash in constant time; false for anything malformed. */
export function verifyPassword(password: string, hash: string): boolean {
  if (!isCryptHash(hash)) return false;
  const [, id, rounds, salt] = HASH.exec(hash)!;
  const computed =
    id === '1' ? md5Crypt(password, salt!) : shaCrypt(id === '5' ? 'sha256' : 'sha512', password, salt!, rounds === undefined ? undefined : Number(rounds));
  const a = Buffer.from(computed);
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}
