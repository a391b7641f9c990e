/**
 * Pending challenges (RFC 2865 §5.24 State; OpenVPN CRV1): a token of 16 random octets, bound to the
 * user and the client that asked, single use and short-lived. The first-factor password waits here,
 * in memory only, until the code arrives, because the second factor is checked first (AW+ 基本仕様).
 */
import { randomBytes } from 'node:crypto';

/** How long a user has to answer a challenge. */
export const CHALLENGE_TTL_MS = 120_000;
const MAX_PENDING = 10_000;

export interface Pending {
  readonly user: string;
  readonly client: string;
  /** The first-factor password; undefined when no first factor is due (`2fa only`) or it already passed. */
  readonly password: Buffer | undefined;
  readonly expires: number;
  /** E-mail OTP: the code mailed for this challenge (SPEC §7: bound to the State). */
  readonly emailCode?: string;
}

export class ChallengeStore {
  private readonly pending = new Map<string, Pending>();

  /** Opens a challenge (for `ttlMs`, default CHALLENGE_TTL_MS); returns its token. */
  open(user: string, client: string, password: Buffer | undefined, now: number, extra: { emailCode?: string; ttlMs?: number } = {}): Buffer {
    if (this.pending.size >= MAX_PENDING) {
      for (const [k, p] of this.pending) if (p.expires <= now || this.pending.size >= MAX_PENDING) this.pending.delete(k);
    }
    const token = randomBytes(16);
    this.pending.set(token.toString('hex'), { user, client, password, expires: now + (extra.ttlMs ?? CHALLENGE_TTL_MS), emailCode: extra.emailCode });
    return token;
  }

  /** Takes (and forgets) the challenge a token names, if it is live and belongs to this user and client. */
  take(token: Buffer, user: string, client: string, now: number): Pending | undefined {
    const key = token.toString('hex');
    const p = this.pending.get(key);
    if (!p) return undefined;
    this.pending.delete(key);
    return p.expires > now && p.user === user && p.client === client ? p : undefined;
  }
}
