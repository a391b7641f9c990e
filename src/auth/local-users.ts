/**
 * The first factor from a table of local users (the built-in RADIUS server's `user NAME password`):
 * crypt(3) hashes, checked in constant time per hash, off the event loop (util/worker-pool.ts).
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PasswordCheck } from '../util/crypt.ts';
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
  constructor(
    private readonly users: () => ReadonlyMap<string, string>,
    private readonly checkPassword: PasswordCheck,
  ) {}

  private digest(password: Buffer): Buffer {
    // One-shot: a hash object per login costs more than the concatenation.
    return hash('sha256', Buffer.concat([this.salt, password]), 'buffer');
  }

  async check(user: string, password: Buffer): Promise<FirstFactorResult> {
    const hash = this.users().get(user);
    if (!hash) return { answer: 'reject' };
    const known = this.verified.get(user);
    if (known && known.hash === hash && timingSafeEqual(known.digest, this.digest(password))) return { answer: 'accept' };
    let ok: boolean;
    try {
      ok = await this.checkPassword(password.toString('utf8'), hash);
    } catch {
      // Too many checks waiting (or the checker stopped): answered as a source that did not answer.
      return { answer: 'timeout' };
    }
    // A user removed, or given a new password, while the old one was being checked does not get in.
    if (!ok || this.users().get(user) !== hash) return { answer: 'reject' };
    this.verified.set(user, { hash, digest: this.digest(password) });
    return { answer: 'accept' };
  }
}
