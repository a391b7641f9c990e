/**
 * The first factor from a table of local users (the built-in RADIUS server's `user NAME password`):
 * crypt(3) hashes, checked in constant time per hash.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { verifyPassword } from '../util/crypt.ts';
import type { FirstFactorResult, FirstFactorSource } from './types.ts';

export class LocalUsers implements FirstFactorSource {
  /**
   * crypt(3) costs milliseconds per check; a NAS repeats the same passwords all day. After one full
   * verification the pair is remembered as SHA-256(process salt ‖ password), for as long as the hash
   * stays the same, so later checks cost microseconds while nothing reversible is kept.
   */
  private readonly verified = new Map<string, { hash: string; digest: Buffer }>();
  private readonly salt = randomBytes(16);

  /** `users`: name → crypt(3) hash, read at every check so config changes apply at once. */
  constructor(private readonly users: () => ReadonlyMap<string, string>) {}

  private digest(password: Buffer): Buffer {
    // One-shot: a hash object per login costs more than the concatenation.
    return hash('sha256', Buffer.concat([this.salt, password]), 'buffer');
  }

  /** The synchronous check (no I/O): accept or reject. */
  verify(user: string, password: Buffer): boolean {
    const hash = this.users().get(user);
    if (!hash) return false;
    const known = this.verified.get(user);
    if (known && known.hash === hash && timingSafeEqual(known.digest, this.digest(password))) return true;
    if (!verifyPassword(password.toString('utf8'), hash)) return false;
    this.verified.set(user, { hash, digest: this.digest(password) });
    return true;
  }

  async check(user: string, password: Buffer): Promise<FirstFactorResult> {
    return { answer: this.verify(user, password) ? 'accept' : 'reject' };
  }
}
