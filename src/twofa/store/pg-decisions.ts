/**
 * Decisions by request, shared by the appliances of a group (table awplus_2fa_decisions, beside the
 * users). RFC 5080 §2.2.2 says a retransmission gets the first answer, never a second evaluation; a
 * NAS that gives up on one appliance and sends the same request to another must get the same answer
 * there too, or the second appliance would refuse the code the first one accepted (reused).
 *
 * The first appliance to see a request claims it (one statement: insert, or take over an expired
 * row); an appliance that finds the claim of another drops the request while it is being decided
 * (the NAS sends it again) and answers with the recorded decision once there is one. A claim nobody
 * decides (its appliance died) expires, and the next retransmission is decided afresh.
 *
 * These rows are committed without waiting for the WAL flush (or a synchronous standby): one lost in
 * a crash or a failover costs a retransmission a fresh decision there (a Reject, the code being used),
 * never a second use of a code, while each login is spared two waits for the disk or the standby.
 *
 * What a decision is, and what the key's parts mean, is the caller's business (radius/); here they are
 * a client name, opaque request bytes, a digest and a JSON value.
 */
import type { PgConnection } from './pg-connection.ts';

export interface DecisionKey {
  /** Who asked (the NAS address). */
  readonly client: string;
  /** What identifies the request at that client (RADIUS: Identifier ‖ Request Authenticator). */
  readonly request: Buffer;
  /** A digest of the whole request: the same key with another digest is another request. */
  readonly digest: Buffer;
}

export type DecisionClaim =
  /** Nobody had it: decide, then `record`. */
  | { readonly kind: 'claimed' }
  /** Another appliance is deciding it now. */
  | { readonly kind: 'in-progress' }
  /** Decided already: answer the same. */
  | { readonly kind: 'done'; readonly decision: unknown }
  /** The key is taken by a request with other contents. */
  | { readonly kind: 'different' };

/** How long a claim and a decision are kept, in seconds (RADIUS clients retry for less; as the local duplicate cache). */
export const DECISION_TTL_SECONDS = 30;
/** How often each appliance removes expired rows, in ms. */
const SWEEP_MS = 60_000;

const CLAIM = `WITH claimed AS (
    INSERT INTO awplus_2fa_decisions AS d (client, request, digest, decision, expires)
    VALUES ($1, $2, $3, NULL, now() + make_interval(secs => $4))
    ON CONFLICT (client, request) DO UPDATE SET digest = EXCLUDED.digest, decision = NULL, expires = EXCLUDED.expires
      WHERE d.expires < now()
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM claimed) AS claimed, d.digest, d.decision
  FROM (SELECT 1) AS one LEFT JOIN awplus_2fa_decisions d ON d.client = $1 AND d.request = $2`;

export class PostgresDecisions {
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly db: PgConnection) {
    this.sweeper = setInterval(() => {
      // Best effort: an unavailable store is already reported by the logins.
      void db.query({ text: 'DELETE FROM awplus_2fa_decisions WHERE expires < now()' }, { flushed: false }).catch(() => undefined);
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  async claim(key: DecisionKey): Promise<DecisionClaim> {
    const r = await this.db.query<{ claimed: boolean; digest: Buffer | null; decision: unknown }>(
      { name: 'awplus-claim', text: CLAIM, values: [key.client, key.request, key.digest, DECISION_TTL_SECONDS] },
      { flushed: false },
    );
    const row = r.rows[0]!;
    if (row.claimed) return { kind: 'claimed' };
    // Not claimed, yet not visible to this statement: another appliance inserted it a moment ago.
    if (row.digest === null) return { kind: 'in-progress' };
    if (!row.digest.equals(key.digest)) return { kind: 'different' };
    return row.decision === null ? { kind: 'in-progress' } : { kind: 'done', decision: row.decision };
  }

  /** Records the decision of a request this appliance claimed; undefined (no answer) gives the claim up. */
  async record(key: DecisionKey, decision: unknown): Promise<void> {
    if (decision === undefined) {
      await this.db.query({ text: 'DELETE FROM awplus_2fa_decisions WHERE client = $1 AND request = $2 AND digest = $3 AND decision IS NULL', values: [key.client, key.request, key.digest] }, { flushed: false });
      return;
    }
    await this.db.query(
      {
        name: 'awplus-record',
        // `expires` stays as the claim set it (30 s from the request's arrival, when NASes have long
        // stopped retrying): an update that touches no indexed column needs no new index entries.
        text: 'UPDATE awplus_2fa_decisions SET decision = $4 WHERE client = $1 AND request = $2 AND digest = $3 AND decision IS NULL',
        values: [key.client, key.request, key.digest, JSON.stringify(decision)],
      },
      { flushed: false },
    );
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
