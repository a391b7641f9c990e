/**
 * The PostgreSQL store's schema, created and upgraded by the appliance: `awplus_schema_version`
 * lists the migrations applied, and every appliance that connects applies the missing ones in order,
 * in one transaction under an advisory lock (two appliances starting at once do not both create a
 * table). A database whose version is newer than this software knows is refused: an older appliance
 * must not write records a newer one would misread.
 *
 * The same transaction checks the key file: every appliance of a group seals and opens the users'
 * secrets with one key (`.2fa.key`), and one with another key would fail every login it served. The
 * first appliance records an HMAC of its key (the key itself cannot be recovered from it).
 */
import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { StoreUnavailableError } from './types.ts';

/** Migrations in order; number N is applied once, after N-1. Never edit one that has shipped: add another. */
export const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: the users. `rev` is bumped by every change; a login's change is `UPDATE … WHERE name AND rev`
  //    (compare-and-set), so two appliances deciding on the same record cannot both write.
  //    `data` is the record without its secrets, `sealed` the secret and scratch codes
  //    (base64 of iv ‖ tag ‖ AES-256-GCM, the user name as associated data, as the embedded store).
  [
    `CREATE TABLE awplus_2fa_users (
       name text PRIMARY KEY,
       rev bigint NOT NULL DEFAULT 1,
       data jsonb NOT NULL,
       sealed text NOT NULL)`,
    `CREATE TABLE awplus_2fa_meta (
       key text PRIMARY KEY,
       value text NOT NULL)`,
  ],
  // 2: RADIUS decisions by request, so that a retransmission reaching another appliance gets the same
  //    answer (RFC 5080 §2.2.2 across appliances). `decision` is NULL while the appliance that claimed
  //    the request decides; `expires` bounds both the claim and the remembered answer.
  [
    `CREATE TABLE awplus_2fa_decisions (
       client text NOT NULL,
       request bytea NOT NULL,
       digest bytea NOT NULL,
       decision jsonb,
       expires timestamptz NOT NULL,
       PRIMARY KEY (client, request))`,
    `CREATE INDEX awplus_2fa_decisions_expires ON awplus_2fa_decisions (expires)`,
  ],
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** pg_advisory_xact_lock key of schema changes: any constant the appliance alone uses. */
const SCHEMA_LOCK = 0x61777032; // 'awp2'

/** What the database records of the key: it tells equal keys apart and reveals nothing of them. */
export function keyCheck(key: Buffer): string {
  return createHmac('sha256', key).update('awplus 2fa store key check').digest('hex');
}

/**
 * Brings the schema to SCHEMA_VERSION (up to `upTo`, for tests of upgrades) and checks the key, in one
 * transaction on `client`. Throws StoreUnavailableError when the database is newer or the key differs.
 */
export async function ensureSchema(client: pg.ClientBase, key: Buffer, upTo = SCHEMA_VERSION): Promise<{ applied: number[] }> {
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS awplus_schema_version (
       version integer PRIMARY KEY,
       applied timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number }>('SELECT coalesce(max(version), 0)::int AS v FROM awplus_schema_version');
    const current = rows[0]!.v;
    if (current > SCHEMA_VERSION) {
      throw new StoreUnavailableError(`the database has schema version ${current}, newer than this software's ${SCHEMA_VERSION}: upgrade this appliance`);
    }
    for (let v = current + 1; v <= upTo; v++) {
      for (const statement of MIGRATIONS[v - 1]!) await client.query(statement);
      await client.query('INSERT INTO awplus_schema_version (version) VALUES ($1)', [v]);
      applied.push(v);
    }
    const check = keyCheck(key);
    await client.query(`INSERT INTO awplus_2fa_meta (key, value) VALUES ('key-check', $1) ON CONFLICT (key) DO NOTHING`, [check]);
    const stored = await client.query<{ value: string }>(`SELECT value FROM awplus_2fa_meta WHERE key = 'key-check'`);
    if (stored.rows[0]?.value !== check) {
      throw new StoreUnavailableError('the key file .2fa.key differs from the one the database was created with: copy it from an appliance of the group');
    }
    await client.query('COMMIT');
    return { applied };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
