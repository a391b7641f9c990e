/** Counters of the local RADIUS server (`show radius local-server statistics`) and the drop summary. */
import type { Log } from '../util/log.ts';

/** Why a packet got no answer (RFC 2865 §3: silently discarded). */
export type DropReason =
  | 'unknown-client'
  | 'malformed'
  | 'duplicate-of-dropped'
  | 'not-access-request'
  | 'not-accounting-request'
  | 'bad-request-authenticator'
  | 'bad-acct-status-type'
  | 'bad-message-authenticator'
  | 'missing-message-authenticator'
  | 'bad-password-attribute'
  | 'in-progress'
  | 'reply-too-large'
  | 'internal-error';

export class ServerStats {
  /** Every datagram read, whatever became of it: requests, retransmissions and drops add up to more (a request can end in a drop). */
  received = 0;
  requests = 0;
  accepts = 0;
  rejects = 0;
  challenges = 0;
  /** Accounting-Responses sent (the accounting port's server). */
  responses = 0;
  /** Retransmissions answered from the duplicate cache (one of a dropped request is a drop, not this). */
  duplicates = 0;
  /** Status-Server requests answered (RFC 5997). */
  statusServer = 0;
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
    this.received = this.requests = this.accepts = this.rejects = this.challenges = this.responses = this.duplicates = this.statusServer = 0;
    this.drops.clear();
    this.reasons.clear();
  }
}

/** How often dropped datagrams are summarised in the audit log. */
export const DROP_SUMMARY_INTERVAL_MS = 60_000;
/** Distinct source addresses remembered per interval (a spoofed flood must not grow this without bound). */
const MAX_SOURCES = 1024;
/** Source addresses named in a summary, busiest first. */
const TOP_SOURCES = 5;

/**
 * Dropped datagrams in the audit log, summarised. Anyone who can send a UDP packet can cause a drop
 * (RFC 2865 §3 has them silently discarded), so one audit event per datagram would let any host on the
 * network push every login out of `show log` and fill the log sinks. Instead each drop is counted
 * (ServerStats, always exact) and at most one `radius-drops` event per interval says how many, why, and
 * from where: the total, the count per reason, and the busiest sources.
 */
export class DropSummary {
  private total = 0;
  private readonly reasons = new Map<DropReason, number>();
  private readonly sources = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Log,
    private readonly intervalMs = DROP_SUMMARY_INTERVAL_MS,
    /** The summary's event: `radius-drops`, or `radius-accounting-drops` for the accounting port. */
    private readonly event = 'radius-drops',
  ) {}

  record(reason: DropReason, address: string): void {
    this.total++;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    const seen = this.sources.get(address);
    if (seen !== undefined) this.sources.set(address, seen + 1);
    else if (this.sources.size < MAX_SOURCES) this.sources.set(address, 1);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      // A pending summary never keeps the process alive; close() writes it.
      this.timer.unref();
    }
  }

  /** Logs what was counted since the last summary (nothing when there was no drop). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.total === 0) return;
    const top = [...this.sources].sort((a, b) => b[1] - a[1]).slice(0, TOP_SOURCES);
    // `name=count` words, not nested objects: the log sinks drop nested keys that look like secrets
    // (log/redact.ts), and `bad-password-attribute` would be one.
    const words = (pairs: [string, number][]) => pairs.map(([k, n]) => `${k}=${n}`).join(' ');
    this.log.info(this.event, {
      total: this.total,
      reasons: words([...this.reasons].sort()),
      sources: words(top),
      // Datagrams from every source not named above.
      fromOthers: this.total - top.reduce((n, [, c]) => n + c, 0),
      seconds: Math.round(this.intervalMs / 1000),
    });
    this.total = 0;
    this.reasons.clear();
    this.sources.clear();
  }

  /** Writes the pending summary and stops the timer (server shutdown). */
  close(): void {
    this.flush();
  }
}
