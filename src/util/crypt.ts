/**
 * crypt(3) password hashes as AW+ prints them in running-config (`username manager privilege 15
 * password 8 $1$bJoVec4D$JwOJGPr7YqoExA0GVasdE0`, awplus-spec.md §4.7 [FOUND S12]). New passwords are
 * hashed with SHA-512-crypt; `$1$` (MD5-crypt), `$5$` and `$6$` hashes pasted from a real device verify
 * too, so its config boots here with working logins.
 *
 * Pure node:crypto (no native crypt(3), no dependency): the emulator must run the same on every host,
 * and glibc/libxcrypt differ in what they accept (libxcrypt refuses `rounds=` below 1000 where the spec
 * clamps). Checked against `openssl passwd` and the published spec vectors in fixtures/vectors/crypt.tsv.
 */
import { createHash, hash as digestOf, randomBytes, timingSafeEqual } from 'node:crypto';

/** crypt's base-64 alphabet (not RFC 4648's: different order, `./` first, no padding). */
const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;
/**
 * Highest `rounds=` that verifyPassword will compute. The spec allows 999,999,999 (tens of minutes of
 * CPU on the single event loop every session shares); 1,000,000 is 200× the default, well above
 * anything real devices emit, and bounds a login to about a second.
 */
const VERIFY_ROUNDS_LIMIT = 1_000_000;
const SHA_SALT_MAX = 16;
const MD5_SALT_MAX = 8;
const DOLLAR = 0x24;

type Group = readonly [b2: number, b1: number, b0: number, chars: number];

/** crypt's base-64: 24 bits per group (b2 high, b0 low), emitted least significant 6 bits first; -1 = zero byte. */
function encode(bytes: Buffer, groups: readonly Group[]): string {
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

/** Byte order of the final encoding: Drepper, "Unix crypt using SHA-256 and SHA-512", step 22 (e). */
const SHA512_ORDER: readonly Group[] = [
  [0, 21, 42, 4], [22, 43, 1, 4], [44, 2, 23, 4], [3, 24, 45, 4], [25, 46, 4, 4], [47, 5, 26, 4], [6, 27, 48, 4],
  [28, 49, 7, 4], [50, 8, 29, 4], [9, 30, 51, 4], [31, 52, 10, 4], [53, 11, 32, 4], [12, 33, 54, 4], [34, 55, 13, 4],
  [56, 14, 35, 4], [15, 36, 57, 4], [37, 58, 16, 4], [59, 17, 38, 4], [18, 39, 60, 4], [40, 61, 19, 4], [62, 20, 41, 4],
  [-1, -1, 63, 2],
];
/** Same, step 22 (e) for SHA-256. */
const SHA256_ORDER: readonly Group[] = [
  [0, 10, 20, 4], [21, 1, 11, 4], [12, 22, 2, 4], [3, 13, 23, 4], [24, 4, 14, 4], [15, 25, 5, 4], [6, 16, 26, 4],
  [27, 7, 17, 4], [18, 28, 8, 4], [9, 19, 29, 4], [-1, 31, 30, 3],
];
/** FreeBSD crypt-md5.c's `to64` sequence. */
const MD5_ORDER: readonly Group[] = [[0, 6, 12, 4], [1, 7, 13, 4], [2, 8, 14, 4], [3, 9, 15, 4], [4, 10, 5, 4], [-1, -1, 11, 2]];

/** `count` bytes of `block` repeated (the spec's "sequence P/S of length n" and "repeat B for each byte"). */
function repeatTo(block: Buffer, count: number): Buffer {
  const out = Buffer.alloc(count);
  for (let i = 0; i < count; i += block.length) block.copy(out, i, 0, Math.min(block.length, count - i));
  return out;
}

/** The salt's bytes as crypt(3) uses them: up to the first `$` (the field terminator), at most `max` bytes. */
function saltBytes(salt: string, max: number): Buffer {
  const b = Buffer.from(salt, 'utf8');
  const end = b.indexOf(DOLLAR);
  return b.subarray(0, Math.min(end < 0 ? b.length : end, max));
}

/**
 * Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512" (2007, https://www.akkadia.org/drepper/SHA-crypt.txt),
 * steps 1-22; the rounds loop (step 21) hashes one contiguous scratch buffer per round with the one-shot
 * crypto.hash, which is what keeps a default-rounds `$6$` at a few milliseconds.
 */
function shaCrypt(alg: 'sha256' | 'sha512', password: string, salt: string, rounds: number | undefined): string {
  if (rounds !== undefined && !Number.isSafeInteger(rounds)) throw new RangeError(`rounds must be an integer, got ${rounds}`);
  const n = rounds === undefined ? ROUNDS_DEFAULT : Math.min(ROUNDS_MAX, Math.max(ROUNDS_MIN, rounds));
  const P = Buffer.from(password, 'utf8');
  const S = saltBytes(salt, SHA_SALT_MAX);
  // Steps 4-8: digest B = H(P S P).
  const B = digestOf(alg, Buffer.concat([P, S, P]), 'buffer');
  // Steps 1-3, 9-12: digest A = H(P S B-repeated-to-|P| then, per bit of |P| from the low end, B for 1 and P for 0).
  const aParts = [P, S, repeatTo(B, P.length)];
  for (let len = P.length; len > 0; len >>= 1) aParts.push(len & 1 ? B : P);
  const A = digestOf(alg, Buffer.concat(aParts), 'buffer');
  // Steps 13-16: P' = H(P repeated |P| times) cut to |P|. Streamed: |P|² bytes could be large.
  const dp = createHash(alg);
  for (let i = 0; i < P.length; i++) dp.update(P);
  const Pp = repeatTo(dp.digest(), P.length);
  // Steps 17-20: S' = H(S repeated 16 + A[0] times) cut to |S|.
  const ds = createHash(alg);
  for (let i = 0; i < 16 + A[0]!; i++) ds.update(S);
  const Sp = repeatTo(ds.digest(), S.length);
  // Step 21: odd rounds P' … C, even rounds C … P'; S' unless i % 3 == 0; P' unless i % 7 == 0.
  let C = A;
  const scratch = Buffer.allocUnsafe(C.length + 2 * Pp.length + Sp.length);
  for (let i = 0; i < n; i++) {
    let off = (i & 1 ? Pp : C).copy(scratch, 0);
    if (i % 3) off += Sp.copy(scratch, off);
    if (i % 7) off += Pp.copy(scratch, off);
    off += (i & 1 ? C : Pp).copy(scratch, off);
    C = digestOf(alg, scratch.subarray(0, off), 'buffer');
  }
  // Step 22: `$id$`, `rounds=N$` only when asked for (glibc prints it whenever the setting had it), salt, digest.
  const id = alg === 'sha512' ? '$6$' : '$5$';
  const roundsField = rounds === undefined ? '' : `rounds=${n}$`;
  return `${id}${roundsField}${S.toString('utf8')}$${encode(C, alg === 'sha512' ? SHA512_ORDER : SHA256_ORDER)}`;
}

/**
 * SHA-512-crypt (`$6$`), the hash `hashPassword` writes and newer AW+ releases store.
 *
 * `salt` is the bare salt (no `$6$`); crypt(3) uses it up to its first `$`, at most 16 bytes. `rounds`
 * defaults to 5000 and is then not printed; when given it is clamped to 1000..999,999,999 as the spec
 * says and printed as `rounds=N$` (so a hash made with an explicit `rounds=5000` round-trips).
 * Throws RangeError for a non-integer `rounds`.
 */
export function sha512Crypt(password: string, salt: string, rounds?: number): string {
  return shaCrypt('sha512', password, salt, rounds);
}

/**
 * SHA-256-crypt (`$5$`): only needed to verify hashes pasted from devices that use it. Same `salt` and
 * `rounds` rules as sha512Crypt.
 */
export function sha256Crypt(password: string, salt: string, rounds?: number): string {
  return shaCrypt('sha256', password, salt, rounds);
}

/**
 * MD5-crypt (`$1$`), the form older AW+ releases store (including the factory `manager`/`friend` hash).
 * Weak by today's standards, so it is only used to verify existing hashes, never to create new ones.
 *
 * Poul-Henning Kamp's algorithm, FreeBSD lib/libcrypt/crypt-md5.c (1994); also glibc md5-crypt.c.
 * `salt` is the bare salt (no `$1$`), used up to its first `$`, at most 8 bytes.
 */
export function md5Crypt(password: string, salt: string): string {
  const P = Buffer.from(password, 'utf8');
  const S = saltBytes(salt, MD5_SALT_MAX);
  const alt = digestOf('md5', Buffer.concat([P, S, P]), 'buffer');
  const parts = [P, Buffer.from('$1$'), S];
  for (let pl = P.length; pl > 0; pl -= 16) parts.push(alt.subarray(0, Math.min(16, pl)));
  // "Then something really weird...": per bit of |P|, a NUL byte for 1 and P's first byte for 0.
  for (let i = P.length; i; i >>= 1) parts.push(i & 1 ? Buffer.alloc(1) : P.subarray(0, 1));
  let final = digestOf('md5', Buffer.concat(parts), 'buffer');
  // 1000 rounds "to slow things down": same alternation as SHA-crypt step 21, with P and S themselves.
  const scratch = Buffer.allocUnsafe(final.length + 2 * P.length + S.length);
  for (let i = 0; i < 1000; i++) {
    let off = (i & 1 ? P : final).copy(scratch, 0);
    if (i % 3) off += S.copy(scratch, off);
    if (i % 7) off += P.copy(scratch, off);
    off += (i & 1 ? final : P).copy(scratch, off);
    final = digestOf('md5', scratch.subarray(0, off), 'buffer');
  }
  return `$1$${S.toString('utf8')}$${encode(final, MD5_ORDER)}`;
}

/** `length` random characters of the crypt alphabet: 64 symbols, so one byte's low 6 bits each, with no bias. */
function randomSalt(length: number): string {
  let s = '';
  for (const b of randomBytes(length)) s += ALPHABET[b & 0x3f];
  return s;
}

/**
 * Hashes a new password for `username … password` / running-config: SHA-512-crypt with default rounds
 * (not printed, as on a device) and a fresh random 16-character salt, so equal passwords never share a
 * hash. About 10 ms.
 */
export function hashPassword(password: string): string {
  return sha512Crypt(password, randomSalt(SHA_SALT_MAX));
}

/** id, optional rounds (canonical decimal: no sign, no leading zero), salt, digest. */
const HASH = /^\$([156])\$(?:rounds=([1-9][0-9]{0,8})\$)?([./0-9A-Za-z]*)\$([./0-9A-Za-z]+)$/;
const DIGEST_LENGTH: Readonly<Record<string, number>> = { '1': 22, '5': 43, '6': 86 };

interface ParsedHash {
  id: '1' | '5' | '6';
  rounds: number | undefined;
  salt: string;
}

/** The parts of a well-formed hash, or undefined. */
function parse(s: string): ParsedHash | undefined {
  const m = HASH.exec(s);
  if (!m) return undefined;
  const id = m[1] as ParsedHash['id'];
  const rounds = m[2] === undefined ? undefined : Number(m[2]);
  const salt = m[3]!;
  if (m[4]!.length !== DIGEST_LENGTH[id]) return undefined;
  if (id === '1') return rounds === undefined && salt.length <= MD5_SALT_MAX ? { id, rounds, salt } : undefined;
  // A stored `rounds=` is always the clamped value, so anything below the range can never verify; above
  // VERIFY_ROUNDS_LIMIT we refuse to compute it, so such a hash is refused as input too.
  if (rounds !== undefined && (rounds < ROUNDS_MIN || rounds > VERIFY_ROUNDS_LIMIT)) return undefined;
  return salt.length <= SHA_SALT_MAX ? { id, rounds, salt } : undefined;
}

/**
 * Whether `s` is a well-formed `$1$salt$digest22`, `$5$[rounds=N$]salt$digest43` or
 * `$6$[rounds=N$]salt$digest86` hash: validates `username … password 8 HASH` and hashes read from a
 * startup-config, so a typo is refused up front instead of silently locking the user out.
 *
 * Salts are 0-8 (`$1$`) or 0-16 (`$5$`/`$6$`) characters of `./0-9A-Za-z`; `rounds` is a canonical
 * decimal in 1000..1,000,000 (crypt(3) allows up to 999,999,999; we refuse to compute more).
 */
export function isCryptHash(s: string): boolean {
  return typeof s === 'string' && parse(s) !== undefined;
}

/**
 * Checks a login (or `enable`) password against a stored `$1$`, `$5$` or `$6$` hash by recomputing it
 * with the hash's own salt and rounds and comparing in constant time, so response timing does not leak
 * how much of the hash matched.
 *
 * Never throws: anything that is not isCryptHash, or non-string input, is simply false. Hashes with more
 * than 1,000,000 rounds are refused (false) rather than computed, to bound the time one check can take
 * (a worker thread's, worker-pool.ts).
 */
export function verifyPassword(password: string, hash: string): boolean {
  try {
    if (typeof password !== 'string' || typeof hash !== 'string') return false;
    const p = parse(hash);
    if (!p) return false;
    const computed =
      p.id === '1' ? md5Crypt(password, p.salt) : shaCrypt(p.id === '5' ? 'sha256' : 'sha512', password, p.salt, p.rounds);
    const a = Buffer.from(computed, 'utf8');
    const b = Buffer.from(hash, 'utf8');
    return a.length === b.length && timingSafeEqual(a, b);
  } catch {
    return false;
  }
}

/** How the front doors check a password against a crypt(3) hash: verifyPassword in a worker thread (app.ts). */
export type PasswordCheck = (password: string, hash: string) => Promise<boolean>;
