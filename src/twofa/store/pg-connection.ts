/**
 * The appliance's connection to a PostgreSQL store: a pool of clients with bounded waits everywhere,
 * the schema made ready once per connection state, and the store's health.
 *
 * Fail closed, fast, and quietly (SPEC §16): when a statement fails because the server cannot be
 * reached, refuses us or is too slow, the store is unavailable — the outage is logged once, every
 * later operation is refused at once (no login waits for a timeout the NAS would give up before), and
 * a probe tries the server every second. When it answers, operations go through again, by themselves.
 * The outage's end is logged once the store has stayed up for a few seconds, so a server that comes
 * and goes (too slow under load) is one outage in the log, not one line a second.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Clock } from '../../util/clock.ts';
import type { Log } from '../../util/log.ts';
import { ensureSchema } from './pg-schema.ts';
import { describeTarget, parsePgUrl, type PgTarget } from './pg-target.ts';
import { StoreUnavailableError, UserStoreError } from './types.ts';

/**
 * Bounds, in ms. A RADIUS client waits a few seconds per try (`radius-server timeout` 5 s on AW+), so a
 * login must be decided — refused if need be — well within that: connecting (and waiting for a free
 * client of the pool) 2 s, a statement 2 s at the server, 3 s at the client for a server that stopped
 * answering altogether. Bulk work (migrate, import) gets 60 s per statement.
 */
export const PG_TIMEOUTS = { connect: 2000, statement: 2000, query: 3000, bulkStatement: 60000, probe: 1000, settle: 5000 } as const;

/**
 * Clients per appliance for the users (and half as many for the shared decisions): enough for the
 * RADIUS load of one appliance; N appliances use N × 15 of the server's max_connections.
 */
export const PG_POOL_SIZE = 10;

/**
 * A statement of bulk work inside `transaction(…, { bulk: true })`: the client-side bound follows the
 * longer server-side one (node-postgres takes `query_timeout` per statement too).
 */
export function bulkStatement(text: string, values?: unknown[]): pg.QueryConfig {
  return { text, values, query_timeout: PG_TIMEOUTS.bulkStatement + 1000 } as pg.QueryConfig;
}

/** Thrown inside `transaction(work)`: rolls back, and `transaction` resolves with `value`. */
export class Rollback<T> {
  constructor(readonly value: T) {}
}

export type StoreState = 'starting' | 'available' | 'unavailable';

/** What `show 2fa` reports of a store. */
export interface StoreHealth {
  readonly state: StoreState;
  /** Why it is unavailable (or was, during the last outage). */
  readonly reason: string | undefined;
  /** Appliance time the current (or last) outage began. */
  readonly since: number | undefined;
  /** Outages since the store was opened. */
  readonly outages: number;
  /** Operations refused during the current (or last) outage. */
  readonly refused: number;
  /** The round trip of a trivial statement, measured when asked; undefined while unavailable. */
  readonly latencyMs: number | undefined;
}

/** SQLSTATE classes that are about the data we sent, not about the server being there: 22 data exception, 23 integrity. */
const DATA_ERRORS = new Set(['22', '23']);

/** Whether `e` says the store cannot answer now (as opposed to refusing the data of one statement). */
function isOutage(e: unknown): boolean {
  // The store's own refusals (a record that does not open) are not about the server.
  if (e instanceof UserStoreError) return e instanceof StoreUnavailableError;
  const code = (e as { code?: unknown }).code;
  // Server errors carry a 5-character SQLSTATE; network errors an errno name or nothing (timeouts).
  return !(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && DATA_ERRORS.has(code.slice(0, 2)));
}

/** An error's text for the log and `show 2fa`: the server's or the network's words, never the password. */
function reasonOf(e: unknown, password: string | undefined): string {
  const code = (e as { code?: unknown }).code;
  let text = e instanceof Error ? e.message : String(e);
  if (password) text = text.split(password).join('****');
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

export class PgConnection {
  readonly pool: pg.Pool;
  private readonly unflushed: pg.Pool;
  /** `host:port/database`, for the log. */
  readonly server: string;
  private ready: Promise<void> | undefined;
  private isReady = false;
  private down: { reason: string } | undefined;
  private outage: { since: number; started: number; reason: string; refused: number } | undefined;
  private lastOutage: { since: number; reason: string; refused: number } | undefined;
  private outages = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly target: PgTarget,
    private readonly key: Buffer,
    private readonly clock: Clock,
    private readonly log: Log,
  ) {
    const p = parsePgUrl(target.url);
    if ('error' in p) throw new UserStoreError(`bad PostgreSQL URL: ${p.error}`);
    this.server = describeTarget(target);
    const settings = (synchronousCommit: 'on' | 'off', max: number): pg.PoolConfig => ({
      host: p.host,
      port: p.port,
      user: p.user,
      database: p.database,
      password: target.password ?? p.password,
      ssl: p.sslmode === 'disable' ? false : p.sslmode === 'require' ? { rejectUnauthorized: false } : {},
      max,
      connectionTimeoutMillis: PG_TIMEOUTS.connect,
      statement_timeout: PG_TIMEOUTS.statement,
      query_timeout: PG_TIMEOUTS.query,
      // A lock held by a stuck transaction is "too slow" too; an abandoned transaction is ended by the server.
      lock_timeout: PG_TIMEOUTS.statement,
      idle_in_transaction_session_timeout: PG_TIMEOUTS.bulkStatement,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10000,
      idleTimeoutMillis: 30000,
      application_name: 'awplus-2fa',
      options: `-c synchronous_commit=${synchronousCommit}`,
    });
    // A single-use mark is acknowledged only once it is flushed (and, with a synchronous standby,
    // replicated): whatever the server's default, a crash or a failover must not bring back a used
    // code (SPEC §10).
    this.pool = new pg.Pool(settings('on', PG_POOL_SIZE));
    // What only helps a retransmission find its answer (pg-decisions.ts) need not wait for that: lost
    // in a crash, such a row costs a NAS's retry a fresh decision, never a second use of a code.
    this.unflushed = new pg.Pool(settings('off', Math.ceil(PG_POOL_SIZE / 2)));
    for (const pool of [this.pool, this.unflushed]) {
      // A client whose server went away emits 'error' (besides failing its statement): the pool
      // listens while a client is idle, and this while it is checked out; without a listener the
      // process would end.
      pool.on('error', () => undefined);
      pool.on('connect', (client) => client.on('error', () => undefined));
    }
  }

  /**
   * Runs one statement; throws StoreUnavailableError when the store cannot answer (and at once while
   * it cannot). `flushed: false`: committed without waiting for the WAL flush (or a standby), for
   * rows whose loss in a crash harms no single use.
   */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(q: pg.QueryConfig, o: { flushed?: boolean } = {}): Promise<pg.QueryResult<R>> {
    return this.withClient((client) => client.query<R>(q), o.flushed === false ? this.unflushed : this.pool);
  }

  /** Runs `work` in one transaction (BEGIN … COMMIT, ROLLBACK on any error); `bulk` allows long statements. */
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>, o: { bulk?: boolean } = {}): Promise<T> {
    return this.withClient(async (client) => {
      await client.query('BEGIN');
      try {
        if (o.bulk) await client.query(`SET LOCAL statement_timeout = ${PG_TIMEOUTS.bulkStatement}`);
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (e instanceof Rollback) return e.value as T;
        throw e;
      }
    });
  }

  private async withClient<T>(work: (client: pg.PoolClient) => Promise<T>, pool: pg.Pool = this.pool): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    if (this.down) {
      if (this.outage) this.outage.refused++;
      throw new StoreUnavailableError(this.down.reason);
    }
    let client: pg.PoolClient | undefined;
    try {
      if (!this.isReady) await this.makeReady();
      client = await pool.connect();
      const result = await work(client);
      client.release();
      return result;
    } catch (e) {
      const outage = isOutage(e);
      // A client that failed mid-statement (timeout, lost connection) is not reused.
      client?.release(outage ? (e as Error) : undefined);
      if (outage) throw this.failed(e);
      if (e instanceof UserStoreError) throw e;
      throw new UserStoreError(`the PostgreSQL store refused the change: ${reasonOf(e, this.target.password)}`, { cause: e });
    }
  }

  /** Creates or upgrades the schema and checks the key: once, shared by everybody waiting for it. */
  private makeReady(): Promise<void> {
    this.ready ??= (async () => {
      const client = await this.pool.connect();
      try {
        await ensureSchema(client, this.key);
        client.release();
      } catch (e) {
        client.release(e as Error);
        throw e;
      }
      this.isReady = true;
    })().finally(() => (this.ready = undefined));
    return this.ready;
  }

  /** Marks the store unavailable (logged once per outage) and starts probing; the error to throw. */
  private failed(e: unknown): StoreUnavailableError {
    const reason = reasonOf(e, this.target.password);
    if (!this.down && !this.closed) {
      this.down = { reason };
      this.isReady = false;
      if (this.settleTimer) {
        // Down again before the last outage was over: the same outage goes on.
        clearTimeout(this.settleTimer);
        this.settleTimer = undefined;
      } else {
        this.outages++;
        this.outage = { since: this.clock.now(), started: performance.now(), reason, refused: 0 };
        this.log.error('2fa-store-unavailable', { store: 'postgresql', server: this.server, reason });
      }
      this.scheduleProbe();
    }
    return e instanceof StoreUnavailableError ? e : new StoreUnavailableError(reason, { cause: e });
  }

  private scheduleProbe(): void {
    if (this.closed) return;
    this.probeTimer = setTimeout(() => void this.probe(), PG_TIMEOUTS.probe);
    this.probeTimer.unref();
  }

  /** While unavailable: tries the server; on success the store serves again. */
  private async probe(): Promise<void> {
    this.probeTimer = undefined;
    try {
      await this.makeReady();
      await this.pool.query('SELECT 1');
    } catch (e) {
      if (this.down) this.down.reason = reasonOf(e, this.target.password);
      return this.scheduleProbe();
    }
    if (this.closed) return;
    this.down = undefined;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      const o = this.outage;
      if (!o) return;
      this.lastOutage = { since: o.since, reason: o.reason, refused: o.refused };
      this.outage = undefined;
      this.log.info('2fa-store-available', { store: 'postgresql', server: this.server, outageSeconds: Math.round((performance.now() - o.started) / 1000), refused: o.refused });
    }, PG_TIMEOUTS.settle);
    this.settleTimer.unref();
  }

  /**
   * Starts connecting (schema and key check included) without waiting: an appliance that boots with
   * the server away logs the outage at once rather than at the first login.
   */
  warm(): void {
    void this.query({ text: 'SELECT 1' }).catch(() => undefined);
  }

  /** The store's health; `measure` times a trivial statement (`show 2fa`). */
  async health(measure: boolean): Promise<StoreHealth> {
    let latencyMs: number | undefined;
    if (measure && !this.down) {
      const t0 = performance.now();
      try {
        await this.query({ text: 'SELECT 1' });
        latencyMs = performance.now() - t0;
      } catch {
        // now unavailable: shown as such below
      }
    }
    const o = this.outage ?? this.lastOutage;
    const state: StoreState = this.down ? 'unavailable' : this.isReady ? 'available' : 'starting';
    return { state, reason: this.down?.reason ?? o?.reason, since: o?.since, outages: this.outages, refused: o?.refused ?? 0, latencyMs };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    clearTimeout(this.settleTimer);
    await Promise.all([this.pool.end(), this.unflushed.end()]);
  }
}
