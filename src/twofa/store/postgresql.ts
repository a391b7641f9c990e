/**
 * The shared user store (SPEC §16): the 2FA users and all their single-use state in PostgreSQL, so
 * that several appliances behind one NAS list accept a code once between them.
 *
 * - Every change a login makes (used TOTP step, HOTP counter, scratch code, failures and lockout,
 *   skew history) is ONE conditional statement, `UPDATE … SET …, rev = rev + 1 WHERE name = $1 AND
 *   rev = $2`, committed (flushed, synchronous_commit on) before `update` resolves: of two appliances
 *   that read the same revision, the second's statement waits for the first's commit, finds the
 *   revision gone and changes nothing (READ COMMITTED re-checks the WHERE clause on the new row), and
 *   its facade reads the record again and judges the code anew (reused). The revision each returned
 *   object was read at is remembered beside it (a WeakMap), so TwoFaUser needs no field for it.
 * - Nothing of a record is served from memory: every `get` reads the row, since another appliance
 *   may have changed it a moment ago. Only the unsealing of a sealed blob is remembered (by the blob
 *   itself: a given ciphertext always opens to the same secret and codes, and a used scratch code
 *   changes the blob).
 * - Secrets and scratch codes are sealed exactly as the embedded store seals them (AES-256-GCM under
 *   the flash key file `.2fa.key`, the user name as associated data): every appliance of a group must
 *   have the same key file, which the schema check enforces (pg-schema.ts).
 */
import { open, seal } from '../../util/aead.ts';
import type { Clock } from '../../util/clock.ts';
import type { Log } from '../../util/log.ts';
import type { TwoFaUser } from '../types.ts';
import { bulkStatement, PgConnection, Rollback, type StoreHealth } from './pg-connection.ts';
import { PostgresDecisions } from './pg-decisions.ts';
import type { PgTarget } from './pg-target.ts';
import { UserStoreError, type UserStore } from './types.ts';

type StoredData = Omit<TwoFaUser, 'secret' | 'scratch'>;
interface Row {
  readonly name?: string;
  readonly rev: string;
  readonly data: StoredData;
  readonly sealed: string;
}
interface Secrets {
  readonly secret: string;
  readonly scratch: readonly string[];
}

/** Unsealed blobs remembered (a blob is about 150 bytes; this bounds the memory to a few MB). */
const OPENED_MAX = 20000;

/** Every field of a record, in a fixed order: what "the same user" means to `migrate`. */
const FIELDS = ['name', 'kind', 'secret', 'counter', 'scratch', 'skew', 'skewHistory', 'lastStep', 'email', 'failures', 'lockedUntil', 'lastLogin', 'created'] as const;
// A field added to TwoFaUser must be added above, or migrate would call different users the same.
const everyField: Exclude<keyof TwoFaUser, (typeof FIELDS)[number]> extends never ? true : never = true;
void everyField;
const canonical = (u: TwoFaUser) => JSON.stringify(FIELDS.map((f) => u[f] ?? null));

/** What `2fa store migrate` did, or the users that stopped it. */
export type MigrateResult = { readonly ok: true; readonly copied: number; readonly identical: number } | { readonly ok: false; readonly different: readonly string[] };

const byName = (a: TwoFaUser, b: TwoFaUser) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export class PostgresUserStore implements UserStore {
  /** The revision (and sealed blob) each object handed out was read or written at. */
  private readonly revs = new WeakMap<TwoFaUser, { readonly rev: string; readonly sealed: string }>();
  private readonly opened = new Map<string, Secrets>();
  /** RADIUS decisions by request, beside the users (RFC 5080 §2.2.2 across appliances). */
  readonly decisions: PostgresDecisions;

  private constructor(
    readonly db: PgConnection,
    private readonly key: Buffer,
  ) {
    this.decisions = new PostgresDecisions(db);
  }

  /** A store on `target`; nothing is connected until the first operation (or `warm`). */
  static create(target: PgTarget, key: Buffer, clock: Clock, log: Log): PostgresUserStore {
    return new PostgresUserStore(new PgConnection(target, key, clock, log), key);
  }

  private sealOf(user: TwoFaUser): string {
    return seal(this.key, Buffer.from(JSON.stringify({ secret: user.secret, scratch: user.scratch })), Buffer.from(user.name)).toString('base64');
  }

  private userOf(name: string, row: Row): TwoFaUser {
    let secrets = this.opened.get(row.sealed);
    if (!secrets) {
      try {
        // The name is bound as associated data: a blob copied to another user's row does not open.
        secrets = JSON.parse(open(this.key, Buffer.from(row.sealed, 'base64'), Buffer.from(name)).toString('utf8')) as Secrets;
      } catch (e) {
        throw new UserStoreError(`the secrets of 2FA user ${name} do not open with this appliance's key file`, { cause: e });
      }
      if (this.opened.size >= OPENED_MAX) this.opened.delete(this.opened.keys().next().value!);
      this.opened.set(row.sealed, secrets);
    }
    const user: TwoFaUser = { ...row.data, name, secret: secrets.secret, scratch: secrets.scratch };
    this.revs.set(user, { rev: row.rev, sealed: row.sealed });
    return user;
  }

  private static dataOf(user: TwoFaUser): string {
    const { secret: _s, scratch: _c, ...data } = user;
    return JSON.stringify(data);
  }

  async get(name: string): Promise<TwoFaUser | undefined> {
    const r = await this.db.query<Row>({ name: 'awplus-get', text: 'SELECT rev, data, sealed FROM awplus_2fa_users WHERE name = $1', values: [name] });
    const row = r.rows[0];
    return row && this.userOf(name, row);
  }

  async list(): Promise<TwoFaUser[]> {
    const r = await this.db.query<Row>({ text: 'SELECT name, rev, data, sealed FROM awplus_2fa_users' });
    return r.rows.map((row) => this.userOf(row.name!, row)).sort(byName);
  }

  async put(...users: TwoFaUser[]): Promise<void> {
    if (users.length === 0) return;
    const sealed = users.map((u) => this.sealOf(u));
    const upsert = `INSERT INTO awplus_2fa_users AS u (name, data, sealed)
        SELECT n, d::jsonb, s FROM unnest($1::text[], $2::text[], $3::text[]) AS t(n, d, s)
        ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data, sealed = EXCLUDED.sealed, rev = u.rev + 1
        RETURNING name, rev`;
    const values = [users.map((u) => u.name), users.map((u) => PostgresUserStore.dataOf(u)), sealed];
    const r = users.length === 1 ? await this.db.query<{ name: string; rev: string }>({ text: upsert, values }) : await this.db.transaction((c) => c.query<{ name: string; rev: string }>(bulkStatement(upsert, values)), { bulk: true });
    const revs = new Map(r.rows.map((row) => [row.name, row.rev]));
    users.forEach((u, i) => this.revs.set(u, { rev: revs.get(u.name)!, sealed: sealed[i]! }));
  }

  /** Insert only: two appliances registering one name at once, one of them wins and the other is told. */
  async create(user: TwoFaUser): Promise<boolean> {
    const sealed = this.sealOf(user);
    const r = await this.db.query<{ rev: string }>({
      text: 'INSERT INTO awplus_2fa_users (name, data, sealed) VALUES ($1, $2::jsonb, $3) ON CONFLICT (name) DO NOTHING RETURNING rev',
      values: [user.name, PostgresUserStore.dataOf(user), sealed],
    });
    if (r.rows.length === 0) return false;
    this.revs.set(user, { rev: r.rows[0]!.rev, sealed });
    return true;
  }

  /**
   * The compare-and-set: one statement, committed before it resolves. `durable: false` changes
   * nothing here: the statement is one commit either way, and a later change of the same record
   * must find the revision this one made.
   */
  async update(prev: TwoFaUser, next: TwoFaUser): Promise<boolean> {
    const seen = this.revs.get(prev);
    // An object this store did not hand out (another store's, before a reboot switched stores) has
    // no revision here: the caller reads the record again from this store.
    if (!seen || prev.name !== next.name) return false;
    const sameSecrets = next.secret === prev.secret && next.scratch === prev.scratch;
    const sealed = sameSecrets ? seen.sealed : this.sealOf(next);
    const r = sameSecrets
      ? await this.db.query<{ rev: string }>({ name: 'awplus-cas', text: 'UPDATE awplus_2fa_users SET data = $3, rev = rev + 1 WHERE name = $1 AND rev = $2 RETURNING rev', values: [next.name, seen.rev, PostgresUserStore.dataOf(next)] })
      : await this.db.query<{ rev: string }>({ name: 'awplus-cas-sealed', text: 'UPDATE awplus_2fa_users SET data = $3, sealed = $4, rev = rev + 1 WHERE name = $1 AND rev = $2 RETURNING rev', values: [next.name, seen.rev, PostgresUserStore.dataOf(next), sealed] });
    if (r.rowCount !== 1) return false;
    this.revs.set(next, { rev: r.rows[0]!.rev, sealed });
    return true;
  }

  async delete(...names: string[]): Promise<void> {
    if (names.length) await this.db.query({ text: 'DELETE FROM awplus_2fa_users WHERE name = ANY($1::text[])', values: [names] });
  }

  async replaceAll(users: readonly TwoFaUser[]): Promise<void> {
    const sealed = users.map((u) => this.sealOf(u));
    await this.db.transaction(
      async (c) => {
        await c.query(bulkStatement('DELETE FROM awplus_2fa_users'));
        await c.query(
          bulkStatement('INSERT INTO awplus_2fa_users (name, data, sealed) SELECT n, d::jsonb, s FROM unnest($1::text[], $2::text[], $3::text[]) AS t(n, d, s)', [
            users.map((u) => u.name),
            users.map((u) => PostgresUserStore.dataOf(u)),
            sealed,
          ]),
        );
      },
      { bulk: true },
    );
  }

  /**
   * `2fa store migrate`: copies `users` (the embedded store's) in one transaction. A user already here
   * with exactly the same record is left as it is; one with a different record stops the whole copy,
   * and nothing is written (the shared record may be newer: it is not overwritten).
   */
  async migrateFrom(users: readonly TwoFaUser[]): Promise<MigrateResult> {
    return this.db.transaction(
      async (c) => {
        const names = users.map((u) => u.name);
        // FOR UPDATE: nobody changes these rows between the comparison and the commit.
        const existing = await c.query<Row>(bulkStatement('SELECT name, rev, data, sealed FROM awplus_2fa_users WHERE name = ANY($1::text[]) FOR UPDATE', [names]));
        const there = new Map(existing.rows.map((row) => [row.name!, row]));
        const different: string[] = [];
        const missing: TwoFaUser[] = [];
        for (const u of users) {
          const row = there.get(u.name);
          if (!row) missing.push(u);
          else if (canonical(this.userOf(u.name, row)) !== canonical(u)) different.push(u.name);
        }
        if (different.length) return { ok: false, different: different.sort() } as const;
        const inserted = await c.query<{ name: string }>(
          bulkStatement('INSERT INTO awplus_2fa_users (name, data, sealed) SELECT n, d::jsonb, s FROM unnest($1::text[], $2::text[], $3::text[]) AS t(n, d, s) ON CONFLICT (name) DO NOTHING RETURNING name', [
            missing.map((u) => u.name),
            missing.map((u) => PostgresUserStore.dataOf(u)),
            missing.map((u) => this.sealOf(u)),
          ]),
        );
        if (inserted.rowCount !== missing.length) {
          // Created meanwhile by another appliance: refuse rather than guess, and write nothing.
          const got = new Set(inserted.rows.map((r) => r.name));
          throw new Rollback<MigrateResult>({ ok: false, different: missing.filter((u) => !got.has(u.name)).map((u) => u.name) });
        }
        return { ok: true, copied: missing.length, identical: users.length - missing.length } as const;
      },
      { bulk: true },
    );
  }

  health(measure: boolean): Promise<StoreHealth> {
    return this.db.health(measure);
  }

  warm(): void {
    this.db.warm();
  }

  async close(): Promise<void> {
    this.decisions.close();
    await this.db.close();
  }
}
