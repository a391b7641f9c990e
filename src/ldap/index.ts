/**
 * The LDAP subsystem as the appliance builds it: one set of per-server counters (`show ldap server`),
 * and first-factor sources over whichever servers a method list names. Each source reads its server
 * list at every login, so configuration changes apply to the next one.
 */
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import type { LdapServerSettings } from './settings.ts';
import { LdapFirstFactor } from './source.ts';
import { LdapStatistics } from './statistics.ts';

export interface LdapOptions {
  readonly clock: Clock;
  readonly log: Log;
}

export class Ldap {
  readonly statistics = new LdapStatistics();

  constructor(private readonly o: LdapOptions) {}

  /** A first factor over `servers` (in order), counting into the shared statistics. */
  firstFactor(servers: () => readonly LdapServerSettings[]): LdapFirstFactor {
    return new LdapFirstFactor({ servers, statistics: this.statistics, clock: this.o.clock, log: this.o.log });
  }
}
