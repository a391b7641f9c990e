/**
 * Per-server counters and the last error, for `show ldap server [NAME]` (SPEC §14). Kept by server name
 * across configuration changes, so the figures survive editing a server's settings.
 */

/** What one attempt on a server ended with. */
export type LdapOutcome = 'accept' | 'reject' | 'timeout' | 'error';

export interface LdapServerCounters {
  /** Logins this server was asked about (each ends in exactly one of the four below). */
  readonly requests: number;
  readonly accepts: number;
  readonly rejects: number;
  /** Gave no answer in time (refused, unreachable, silent). */
  readonly timeouts: number;
  /** Answered in a way we cannot use (TLS failure, bind-dn refused, bad base-dn). */
  readonly errors: number;
  /** `up` after a definite answer, `down` after a timeout or error, `unknown` before the first login. */
  readonly state: 'unknown' | 'up' | 'down';
  readonly lastError?: string;
  /** Appliance clock, ms. */
  readonly lastErrorAt?: number;
}

/** What a `show` command may read. */
export interface LdapStatisticsView {
  of(name: string): LdapServerCounters;
}

const ZERO: LdapServerCounters = Object.freeze({ requests: 0, accepts: 0, rejects: 0, timeouts: 0, errors: 0, state: 'unknown' });

const FIELD = { accept: 'accepts', reject: 'rejects', timeout: 'timeouts', error: 'errors' } as const;

export class LdapStatistics implements LdapStatisticsView {
  private readonly byName = new Map<string, LdapServerCounters>();

  /** One server's figures, frozen (all zero for a server never asked). */
  of(name: string): LdapServerCounters {
    return this.byName.get(name) ?? ZERO;
  }

  /** Counts one attempt; `failure` is what went wrong for a timeout or error, `at` the appliance time. */
  record(name: string, outcome: LdapOutcome, failure?: { text: string; at: number }): void {
    const c = this.of(name);
    const answered = outcome === 'accept' || outcome === 'reject';
    this.byName.set(
      name,
      Object.freeze({
        ...c,
        requests: c.requests + 1,
        [FIELD[outcome]]: c[FIELD[outcome]] + 1,
        state: answered ? 'up' : 'down',
        ...(failure ? { lastError: failure.text, lastErrorAt: failure.at } : {}),
      }),
    );
  }

  /** Drops a server's figures (`no ldap-server NAME`). */
  forget(name: string): void {
    this.byName.delete(name);
  }
}
