/**
 * The PostgreSQL user store against a real server (Debian `postgresql`, started by this file in a
 * temporary directory): the store contract, compare-and-set between two appliances' stores, single use
 * through two facades on one database (TOTP, scratch, HOTP), the schema and its migrations, the key
 * check, migrate from the embedded store, the decision table, and an outage: refused at once, logged
 * once, recovered by itself.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { TWOFA_DEFAULTS } from '../../src/config/model.ts';
import { TwoFactor, TwoFaError } from '../../src/twofa/facade.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { LevelUserStore } from '../../src/twofa/store/level.ts';
import { PG_TIMEOUTS } from '../../src/twofa/store/pg-connection.ts';
import { ensureSchema, SCHEMA_VERSION } from '../../src/twofa/store/pg-schema.ts';
import { PostgresUserStore } from '../../src/twofa/store/postgresql.ts';
import { StoreUnavailableError, type UserStore } from '../../src/twofa/store/types.ts';
import { newUser, type TwoFaSettings, type TwoFaUser } from '../../src/twofa/types.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { Flash } from '../../src/util/flash.ts';
import { memoryLog } from '../../src/util/log.ts';
import { tempFlash } from '../helpers/app.ts';
import { DB_PASSWORD, DB_USER, PgServer } from '../helpers/postgres.ts';
import { searchOnEventLoop } from '../helpers/on-event-loop.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const KEY = Buffer.alloc(32, 7);
const T = 1_700_000_010_000;
const SETTINGS: TwoFaSettings = { ...TWOFA_DEFAULTS, enabled: true, emailOtp: false, label: 'awplus' };
const code = (step: number) => hotp(base32Decode(SECRET)!, step);

let server: PgServer;

before(async () => {
  server = await PgServer.start();
});
after(async () => {
  await server?.stop();
});

/** A fresh database of the appliances' role; its URL. */
const database = () => server.database();
const nameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

function store(url: string, o: { key?: Buffer; log?: ReturnType<typeof memoryLog> } = {}) {
  return PostgresUserStore.create({ url, password: DB_PASSWORD }, o.key ?? KEY, new ManualClock(T), o.log ?? memoryLog());
}

const user = (name: string, fields: Partial<TwoFaUser> = {}): TwoFaUser => ({ ...newUser(name, 'totp', T, { secret: SECRET, scratch: ['12345678', '23456789'] }), ...fields });

describe('the store contract', () => {
  test('put, get, list (sorted), update (compare-and-set), delete, replaceAll', async () => {
    const url = await database();
    const s = store(url);
    try {
      assert.equal(await s.get('alice'), undefined);
      await s.put(user('bob'), user('alice', { email: 'a@example.com' }));
      assert.deepEqual((await s.list()).map((u) => u.name), ['alice', 'bob']);
      const a = (await s.get('alice'))!;
      assert.equal(a.secret, SECRET);
      assert.deepEqual(a.scratch, ['12345678', '23456789']);
      assert.equal(a.email, 'a@example.com');
      assert.equal(a.lastStep, undefined);

      const a2 = { ...a, lastStep: 100 };
      assert.equal(await s.update(a, a2), true, 'first change from the read revision');
      assert.equal(await s.update(a, { ...a, lastStep: 99 }), false, 'a second change from the same (now old) revision');
      assert.equal((await s.get('alice'))!.lastStep, 100);
      // A scratch code used: the sealed part changes too.
      const a3 = { ...a2, scratch: ['23456789'] };
      assert.equal(await s.update(a2, a3), true, 'chained change from the object the last update returned');
      assert.deepEqual((await s.get('alice'))!.scratch, ['23456789']);
      // An object this store never handed out has no revision: refused, the caller reads again.
      assert.equal(await s.update(user('alice'), user('alice', { lastStep: 1 })), false);

      await s.delete('bob');
      assert.equal(await s.get('bob'), undefined);
      await s.replaceAll([user('carol'), user('dave')]);
      assert.deepEqual((await s.list()).map((u) => u.name), ['carol', 'dave']);
      // The row holds no secret in clear.
      const rows = await server.sql(`SELECT data::text AS data, sealed FROM awplus_2fa_users`, nameOf(url));
      for (const r of rows) assert.ok(!String(r['data']).includes(SECRET) && !String(r['sealed']).includes(SECRET), 'secret in clear in the database');
    } finally {
      await s.close();
    }
  });

  test("a used mark waits for the flush whatever the server's default; a shared decision does not", async () => {
    const url = await database();
    await server.superuser(`ALTER DATABASE ${nameOf(url)} SET synchronous_commit = off`);
    const s = store(url);
    try {
      const show = async (o: { flushed?: boolean }) => (await s.db.query<{ synchronous_commit: string }>({ text: 'SHOW synchronous_commit' }, o)).rows[0]!.synchronous_commit;
      assert.equal(await show({}), 'on');
      assert.equal(await show({ flushed: false }), 'off');
    } finally {
      await s.close();
    }
  });

  test('two appliances read the same revision: of 50 concurrent changes exactly one is written', async () => {
    const url = await database();
    const [a, b] = [store(url), store(url)];
    try {
      await a.put(user('alice'));
      const reads = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).get('alice')));
      const results = await Promise.all(reads.map((u, i) => (i % 2 ? a : b).update(u!, { ...u!, lastStep: 1000 + i })));
      assert.equal(results.filter(Boolean).length, 1, `written: ${results.filter(Boolean).length}`);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/** Two facades (two appliances) on one database, at the same appliance time. */
async function twoAppliances(url: string) {
  const flash = tempFlash();
  const clock = new ManualClock(T);
  const make = () => new TwoFactor(store(url), clock, memoryLog(), () => SETTINGS, new Flash(flash.dir), searchOnEventLoop);
  const a = make();
  const b = make();
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      flash.cleanup();
    },
  };
}

describe('single use between two appliances on one database', () => {
  for (const kind of ['TOTP', 'scratch', 'HOTP'] as const) {
    test(`50 concurrent logins with the same ${kind} code, split over both: exactly one accepted`, async () => {
      const g = await twoAppliances(await database());
      try {
        const created = await g.a.createUser('alice', { secret: SECRET, hotp: kind === 'HOTP' });
        const input = kind === 'TOTP' ? code(timeStep(T)) : kind === 'HOTP' ? code(1) : created.scratch[0]!;
        // Both appliances connected first, so that their first attempts really overlap.
        await Promise.all([g.a.get('alice'), g.b.get('alice'), g.a.get('alice'), g.b.get('alice')]);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? g.a : g.b).verify('alice', input)));
        const accepted = results.filter((r) => r.ok);
        assert.equal(accepted.length, 1, `accepted ${accepted.length}: ${JSON.stringify(results.map((r) => r.reason))}`);
        const after = (await g.b.get('alice'))!;
        if (kind === 'TOTP') assert.equal(after.lastStep, timeStep(T));
        if (kind === 'HOTP') assert.equal(after.counter, 2);
        if (kind === 'scratch') assert.equal(after.scratch.length, 4);
      } finally {
        await g.close();
      }
    });
  }

  test('the same user created on both at once (two self-registrations): one wins, the other is refused, no secret replaced', async () => {
    const g = await twoAppliances(await database());
    try {
      await Promise.all([g.a.get('bob'), g.b.get('bob')]);
      const results = await Promise.allSettled([g.a.createUser('bob', {}), g.b.createUser('bob', {})]);
      const won = results.filter((r): r is PromiseFulfilledResult<TwoFaUser> => r.status === 'fulfilled');
      assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(lost.reason instanceof TwoFaError && lost.reason.code === 'exists', String(lost.reason));
      assert.equal((await g.a.get('bob'))!.secret, won[0]!.value.secret, 'the winner\'s secret is the stored one');
      assert.equal((await g.b.get('bob'))!.secret, won[0]!.value.secret);
    } finally {
      await g.close();
    }
  });

  test("an administrator's change does not bring back a code another appliance spent meanwhile", async () => {
    const url = await database();
    const flash = tempFlash();
    const clock = new ManualClock(T);
    // Appliance a's store stops after its next read until b has spent a code: a then writes a change
    // made from a record that is no longer the newest.
    const inner = store(url);
    let pause: Promise<unknown> | undefined;
    const paused: UserStore = Object.assign(Object.create(inner) as UserStore, {
      async get(name: string) {
        const u = await inner.get(name);
        const p = pause;
        pause = undefined;
        await p;
        return u;
      },
    });
    const a = new TwoFactor(paused, clock, memoryLog(), () => SETTINGS, new Flash(flash.dir), searchOnEventLoop);
    const b = new TwoFactor(store(url), clock, memoryLog(), () => SETTINGS, new Flash(flash.dir), searchOnEventLoop);
    try {
      await a.createUser('alice', { secret: SECRET });
      let spent!: () => void;
      pause = new Promise<void>((r) => (spent = r));
      const reset = a.resetScratch('alice');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await b.verify('alice', code(timeStep(T)))).ok, true, 'b accepts the code');
      spent();
      await reset;
      const after = (await b.get('alice'))!;
      assert.equal(after.lastStep, timeStep(T), 'the used step survives the reset');
      assert.equal((await b.verify('alice', code(timeStep(T)))).reason, 'reused');
    } finally {
      await a.close();
      await b.close();
      flash.cleanup();
    }
  });
});

describe('schema and key', () => {
  test('a new database gets every migration in order; an older one is upgraded; a newer one is refused', async () => {
    const url = await database();
    const direct = new pg.Client({ connectionString: url.replace(`${DB_USER}@`, `${DB_USER}:${DB_PASSWORD}@`) });
    await direct.connect();
    try {
      assert.deepEqual((await ensureSchema(direct, KEY, 1)).applied, [1]);
      // The appliance upgrades a version-1 database when it first uses it.
      const s = store(url);
      await s.put(user('alice'));
      const versions = await direct.query('SELECT version FROM awplus_schema_version ORDER BY version');
      assert.deepEqual(versions.rows.map((r) => r.version), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      await s.close();

      await direct.query('INSERT INTO awplus_schema_version (version) VALUES (99)');
      const log = memoryLog();
      const newer = store(url, { log });
      await assert.rejects(newer.get('alice'), (e: Error) => e instanceof StoreUnavailableError && /schema version 99, newer than this software's/.test(e.message));
      assert.equal(log.events.filter((e) => e.event === '2fa-store-unavailable').length, 1);
      await newer.close();
    } finally {
      await direct.end();
    }
  });

  test('an appliance with another key file is refused, and reads nothing', async () => {
    const url = await database();
    const s = store(url);
    await s.put(user('alice'));
    await s.close();
    const other = store(url, { key: Buffer.alloc(32, 9) });
    try {
      await assert.rejects(other.get('alice'), /the key file \.2fa\.key differs/);
    } finally {
      await other.close();
    }
  });
});

describe('migrate from the embedded store', () => {
  test('copies every user in one transaction; identical users are left; a different one stops the copy', async () => {
    const url = await database();
    const flash = tempFlash();
    const level = await LevelUserStore.open(flash.dir);
    const s = store(url);
    try {
      await level.put(user('alice', { lastStep: 5 }), user('bob', { kind: 'hotp', counter: 7 }), newUser('zed', 'skip', T));
      const first = await s.migrateFrom(await level.list());
      assert.deepEqual(first, { ok: true, copied: 3, identical: 0 });
      const bob = (await s.get('bob'))!;
      assert.equal(bob.counter, 7);
      assert.equal(bob.secret, SECRET);
      assert.equal((await s.get('zed'))!.kind, 'skip');
      // Again: nothing to copy, nothing refused.
      assert.deepEqual(await s.migrateFrom(await level.list()), { ok: true, copied: 0, identical: 3 });
      // A user that logged in on the shared store since, and a new embedded user: refused, nothing written.
      await s.update(bob, { ...bob, counter: 8 });
      await level.put(user('carol'));
      assert.deepEqual(await s.migrateFrom(await level.list()), { ok: false, different: ['bob'] });
      assert.equal(await s.get('carol'), undefined, 'nothing copied when one user differs');
      assert.equal((await s.get('bob'))!.counter, 8, 'the shared record is not overwritten');
    } finally {
      await s.close();
      await level.close();
      flash.cleanup();
    }
  });
});

describe('decisions by request', () => {
  test('claim, in progress elsewhere, recorded, another request under the same key, given up', async () => {
    const url = await database();
    const [a, b] = [store(url), store(url)];
    try {
      const key = { client: '192.0.2.1', request: Buffer.from('01aabbcc', 'hex'), digest: Buffer.from('d1', 'hex') };
      assert.deepEqual(await a.decisions.claim(key), { kind: 'claimed' });
      assert.deepEqual(await b.decisions.claim(key), { kind: 'in-progress' });
      await a.decisions.record(key, { kind: 'accept', reason: 'ok-totp' });
      assert.deepEqual(await b.decisions.claim(key), { kind: 'done', decision: { kind: 'accept', reason: 'ok-totp' } });
      assert.deepEqual(await b.decisions.claim({ ...key, digest: Buffer.from('d2', 'hex') }), { kind: 'different' });

      const dropped = { ...key, request: Buffer.from('02', 'hex') };
      assert.deepEqual(await a.decisions.claim(dropped), { kind: 'claimed' });
      await a.decisions.record(dropped, undefined);
      assert.deepEqual(await b.decisions.claim(dropped), { kind: 'claimed' }, 'a claim given up is free again');

      // An expired claim (its appliance died) is taken over.
      await server.sql(`UPDATE awplus_2fa_decisions SET expires = now() - interval '1 second' WHERE request = '\\x02'`, nameOf(url));
      assert.deepEqual(await a.decisions.claim(dropped), { kind: 'claimed' });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('the server goes away', () => {
  test('refused at once while it is away, logged once, available again by itself', async () => {
    const url = await database();
    const log = memoryLog();
    const s = store(url, { log });
    try {
      await s.put(user('alice'));
      await server.stopServer('immediate');
      await assert.rejects(s.get('alice'), StoreUnavailableError);
      const t0 = performance.now();
      const refusals = await Promise.allSettled(Array.from({ length: 100 }, () => s.get('alice')));
      const elapsed = performance.now() - t0;
      assert.ok(refusals.every((r) => r.status === 'rejected' && r.reason instanceof StoreUnavailableError), 'every operation refused');
      assert.ok(elapsed < PG_TIMEOUTS.connect, `refused at once while away (${elapsed.toFixed(0)} ms)`);
      assert.equal(log.events.filter((e) => e.event === '2fa-store-unavailable').length, 1, 'one log line for the outage');
      assert.equal((await s.health(false)).state, 'unavailable');
      assert.ok(!JSON.stringify(log.events).includes(DB_PASSWORD), 'no password in the log');

      await server.startServer();
      const deadline = performance.now() + 10000;
      let back: TwoFaUser | undefined;
      while (!back && performance.now() < deadline) {
        back = await s.get('alice').catch(() => undefined);
        if (!back) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(back?.name, 'alice', 'available again without a restart');
      const h = await s.health(true);
      assert.equal(h.state, 'available');
      assert.ok(h.latencyMs !== undefined && h.latencyMs >= 0, 'a latency is measured');
      assert.ok(h.refused >= 100, `refusals counted: ${h.refused}`);
      // The outage's end is logged once the store has stayed up a while.
      await new Promise((r) => setTimeout(r, PG_TIMEOUTS.settle + 500));
      assert.equal(log.events.filter((e) => e.event === '2fa-store-available').length, 1);
      assert.equal(log.events.filter((e) => e.event === '2fa-store-unavailable').length, 1);
    } finally {
      await s.close();
    }
  });
});
