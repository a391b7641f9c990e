/**
 * The 2FA user-data file of `2fa export user-data` / `2fa import user-data` (SPEC §9; AW+ manual
 * 機器交換時のユーザー再登録手順). Layout, all integers big-endian:
 *
 *   magic "AWP2FAUD" (8) | version (1) | scrypt log2 N (1) | r (1) | p (1) | salt (16) | iv (12)
 *   | AES-256-GCM ciphertext of the JSON body | tag (16)
 *
 * The key is scrypt(password, salt); the whole header is associated data, so a changed parameter is as
 * detectable as a changed byte of the body. The body carries every field of every user (secret, type,
 * counter, scratch codes, skew, e-mail, skip-2fa, used-step high-water mark), so single use survives
 * the move to a new appliance.
 */
import { randomBytes, scrypt } from 'node:crypto';
import { decrypt, encrypt } from '../util/aead.ts';
import type { TwoFaUser } from './types.ts';

const MAGIC = Buffer.from('AWP2FAUD');
/** The format version this code writes and reads. */
export const USER_DATA_VERSION = 1;
const HEADER = MAGIC.length + 4 + 16 + 12;
const TAG = 16;
/** scrypt N = 2^15, r = 8, p = 1 (RFC 7914 §2 recommendation for interactive use): ~100 ms here. */
const LOG_N = 15;
const R = 8;
const P = 1;
/**
 * What a file may ask of scrypt: at most what our own exports use. The parameters are in the file, and
 * the key must be derived before the tag can say whether the file is genuine, so a crafted header
 * chooses the cost: with N = 2^20, r = 16, p = 4 (once accepted) one import took ~30 s and 2.2 GB.
 * Bounded here, one derivation costs at most 128·N·r = 32 MiB and ~100 ms, off the event loop.
 */
const MIN_LOG_N = 10;
const MAX_LOG_N = LOG_N;
const MAX_R = R;
const MAX_P = P;
/** scrypt's working memory for the largest accepted parameters (128·N·r, with room for its p blocks). */
const MAX_MEM = 128 * 2 ** MAX_LOG_N * MAX_R + 128 * MAX_R * MAX_P + 1024 * 1024;

/** Why a file could not be read; the CLI turns it into one `% ` line. */
export class UserDataError extends Error {
  constructor(
    readonly kind: 'not-user-data' | 'version' | 'password-or-damaged' | 'too-costly',
    detail = '',
  ) {
    super(detail || kind);
    this.name = 'UserDataError';
  }
}

/** Derivations run one at a time, so several imports at once still take at most MAX_MEM. */
let queue: Promise<unknown> = Promise.resolve();

/** scrypt in libuv's thread pool (node:crypto scrypt), never on the event loop the RADIUS server shares. */
function deriveKey(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const run = () =>
    new Promise<Buffer>((resolve, reject) =>
      scrypt(password, salt, 32, { N: 2 ** logN, r, p, maxmem: MAX_MEM }, (e, key) => (e ? reject(e) : resolve(key))),
    );
  const next = queue.then(run, run);
  queue = next.catch(() => undefined);
  return next;
}

/** Encrypts users into the file format. */
export async function encodeUserData(users: readonly TwoFaUser[], password: string, exportedAt: number): Promise<Buffer> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const header = Buffer.concat([MAGIC, Buffer.from([USER_DATA_VERSION, LOG_N, R, P]), salt, iv]);
  const body = Buffer.from(JSON.stringify({ exportedAt, users }), 'utf8');
  const { ciphertext, tag } = encrypt(await deriveKey(password, salt, LOG_N, R, P), iv, body, header);
  return Buffer.concat([header, ciphertext, tag]);
}

/** Decrypts a file; rejects with UserDataError for a foreign file, an unknown version, a wrong password or damage. */
export async function decodeUserData(file: Buffer, password: string): Promise<TwoFaUser[]> {
  if (file.length < HEADER + TAG || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new UserDataError(file.length >= MAGIC.length && file.subarray(0, MAGIC.length).equals(MAGIC) ? 'password-or-damaged' : 'not-user-data');
  }
  const version = file[MAGIC.length]!;
  if (version !== USER_DATA_VERSION) throw new UserDataError('version', String(version));
  const [logN, r, p] = [file[MAGIC.length + 1]!, file[MAGIC.length + 2]!, file[MAGIC.length + 3]!];
  if (logN < MIN_LOG_N || logN > MAX_LOG_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) throw new UserDataError('too-costly');
  const header = file.subarray(0, HEADER);
  const salt = header.subarray(MAGIC.length + 4, MAGIC.length + 20);
  const iv = header.subarray(MAGIC.length + 20);
  let body: Buffer;
  try {
    body = decrypt(await deriveKey(password, salt, logN, r, p), iv, file.subarray(HEADER, file.length - TAG), file.subarray(file.length - TAG), header);
  } catch {
    throw new UserDataError('password-or-damaged');
  }
  const parsed = JSON.parse(body.toString('utf8')) as { users?: unknown };
  if (!Array.isArray(parsed.users)) throw new UserDataError('not-user-data');
  return parsed.users.map(checkUser);
}

/** A decrypted record is authentic, but still checked field by field before it enters the store. */
function checkUser(u: unknown): TwoFaUser {
  const x = u as Record<string, unknown>;
  const ok =
    typeof x.name === 'string' &&
    (x.kind === 'totp' || x.kind === 'hotp' || x.kind === 'skip' || x.kind === 'email') &&
    typeof x.secret === 'string' &&
    Number.isSafeInteger(x.counter) &&
    Array.isArray(x.scratch) &&
    x.scratch.every((c) => typeof c === 'string' && /^[1-9]\d{7}$/.test(c)) &&
    Number.isSafeInteger(x.skew) &&
    Array.isArray(x.skewHistory) &&
    (x.lastStep === undefined || x.lastStep === null || Number.isSafeInteger(x.lastStep)) &&
    (x.email === undefined || x.email === null || typeof x.email === 'string') &&
    Array.isArray(x.failures);
  if (!ok) throw new UserDataError('not-user-data', 'bad user record');
  return {
    name: x.name as string,
    kind: x.kind as TwoFaUser['kind'],
    secret: x.secret as string,
    counter: x.counter as number,
    scratch: x.scratch as string[],
    skew: x.skew as number,
    skewHistory: x.skewHistory as TwoFaUser['skewHistory'],
    lastStep: (x.lastStep ?? undefined) as number | undefined,
    email: (x.email ?? undefined) as string | undefined,
    failures: x.failures as number[],
    lockedUntil: (x.lockedUntil ?? undefined) as number | undefined,
    lastLogin: (x.lastLogin ?? undefined) as number | undefined,
    created: typeof x.created === 'number' ? x.created : 0,
  };
}
