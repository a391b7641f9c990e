/** Counters of the local RADIUS server (`show radius local-server statistics`). */

/** Why a packet got no answer (RFC 2865 §3: silently discarded). */
export type DropReason = 'unknown-client' | 'malformed' | 'duplicate-of-dropped' | 'not-access-request' | 'bad-message-authenticator' | 'missing-message-authenticator' | 'bad-password-attribute' | 'in-progress' | 'internal-error';

export class ServerStats {
  requests = 0;
  accepts = 0;
  rejects = 0;
  challenges = 0;
  /** Retransmissions answered from the duplicate cache. */
  duplicates = 0;
  readonly drops = new Map<DropReason, number>();
  /** Decisions by reason (ok-totp, bad-code, first-factor-reject, …). */
  readonly reasons = new Map<string, number>();

  drop(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  reason(reason: string): void {
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  clear(): void {
    this.requests = this.accepts = this.rejects = this.challenges = this.duplicates = 0;
    this.drops.clear();
    this.reasons.clear();
  }
}
