/**
 * Which store the facade uses: the embedded `level` store (the default; always open, since it is
 * also what `2fa store migrate` copies from and what `no 2fa store` returns to) or a PostgreSQL store
 * shared with other appliances (SPEC §16).
 *
 * The choice changes at boot only (`select`, called by the appliance once the startup config is
 * applied and before any listener opens): the store holds the users themselves, so a switch while
 * logins run would move who exists in the middle of a login, and switching to a store nobody copied
 * the users into yet would make every user "unconfigured" — logging in with the first factor alone
 * under the default policy. At a reboot no login is in flight, and the operator has run
 * `2fa store migrate` first. Nothing of one store is ever written into the other: a record read from
 * the old store is unknown to the new one, whose compare-and-set then refuses it (the caller reads
 * the record again, from the new store).
 */
import type { Clock } from '../../util/clock.ts';
import type { Log } from '../../util/log.ts';
import type { TwoFaUser } from '../types.ts';
import { LevelUserStore } from './level.ts';
import type { StoreHealth } from './pg-connection.ts';
import type { PostgresDecisions } from './pg-decisions.ts';
import { describeTarget, type PgTarget } from './pg-target.ts';
import { PostgresUserStore, type MigrateResult } from './postgresql.ts';
import type { UserStore } from './types.ts';

export type StoreChoice = { readonly kind: 'embedded' } | { readonly kind: 'postgresql'; readonly target: PgTarget };

export const EMBEDDED: StoreChoice = { kind: 'embedded' };

/** What `show 2fa` says of the store in use. */
export interface StoreStatus {
  readonly choice: StoreChoice;
  readonly health: StoreHealth;
}

const EMBEDDED_HEALTH: StoreHealth = { state: 'available', reason: undefined, since: undefined, outages: 0, refused: 0, latencyMs: undefined };

export function sameChoice(a: StoreChoice, b: StoreChoice): boolean {
  if (a.kind === 'embedded' || b.kind === 'embedded') return a.kind === b.kind;
  return a.target.url === b.target.url && a.target.password === b.target.password;
}

export class UserStores implements UserStore {
  private active: { readonly choice: StoreChoice; readonly store: UserStore; readonly shared?: PostgresUserStore };

  private constructor(
    readonly embedded: LevelUserStore,
    private readonly key: Buffer,
    private readonly clock: Clock,
    private readonly log: Log,
  ) {
    this.active = { choice: EMBEDDED, store: embedded };
  }

  /** Opens the embedded store in `flashDir` (a second process gets a clear error); it is in use until `select`. */
  static async open(flashDir: string, clock: Clock, log: Log): Promise<UserStores> {
    const embedded = await LevelUserStore.open(flashDir);
    // The embedded store read (or made) the key file; the shared store seals with the same key.
    return new UserStores(embedded, embedded.key, clock, log);
  }

  /** The store in use. */
  get choice(): StoreChoice {
    return this.active.choice;
  }

  /** Uses `choice` from now on (at boot: see above); a PostgreSQL store starts connecting at once. */
  async select(choice: StoreChoice): Promise<void> {
    if (sameChoice(choice, this.active.choice)) return;
    const old = this.active;
    const shared = choice.kind === 'postgresql' ? PostgresUserStore.create(choice.target, this.key, this.clock, this.log) : undefined;
    this.active = { choice, store: shared ?? this.embedded, shared };
    this.log.info('2fa-store-selected', choice.kind === 'postgresql' ? { store: 'postgresql', server: describeTarget(choice.target) } : { store: 'embedded' });
    shared?.warm();
    await old.shared?.close();
  }

  /** Unseals the embedded store's records in the background, when it is the store in use. */
  warm(): void {
    if (this.active.store === this.embedded) this.embedded.unsealInBackground();
  }

  /** The shared decision table of the PostgreSQL store in use; undefined on the embedded store. */
  decisions(): PostgresDecisions | undefined {
    return this.active.shared?.decisions;
  }

  /** The store in use and its health; `measure` times a round trip to a shared store. */
  async status(measure = true): Promise<StoreStatus> {
    const { choice, shared } = this.active;
    return { choice, health: shared ? await shared.health(measure) : EMBEDDED_HEALTH };
  }

  /**
   * `2fa store migrate`: the embedded store's users into the PostgreSQL store at `target` (the one in
   * use, or the one configured for the next reboot), in one transaction.
   */
  async migrate(target: PgTarget): Promise<MigrateResult> {
    const users = await this.embedded.list();
    const { choice, shared } = this.active;
    const inUse = shared && sameChoice(choice, { kind: 'postgresql', target }) ? shared : undefined;
    const store = inUse ?? PostgresUserStore.create(target, this.key, this.clock, this.log);
    try {
      return await store.migrateFrom(users);
    } finally {
      if (!inUse) await store.close();
    }
  }

  // ---- UserStore: the store in use ----------------------------------------------------------------
  get(name: string): Promise<TwoFaUser | undefined> {
    return this.active.store.get(name);
  }
  list(): Promise<TwoFaUser[]> {
    return this.active.store.list();
  }
  put(...users: TwoFaUser[]): Promise<void> {
    return this.active.store.put(...users);
  }
  create(user: TwoFaUser): Promise<boolean> {
    return this.active.store.create(user);
  }
  update(prev: TwoFaUser, next: TwoFaUser, opts?: { readonly durable?: boolean }): Promise<boolean> {
    return this.active.store.update(prev, next, opts);
  }
  delete(...names: string[]): Promise<void> {
    return this.active.store.delete(...names);
  }
  replaceAll(users: readonly TwoFaUser[]): Promise<void> {
    return this.active.store.replaceAll(users);
  }

  async close(): Promise<void> {
    await this.active.shared?.close();
    await this.embedded.close();
  }
}
