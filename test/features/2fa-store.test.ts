/**
 * `2fa store postgresql URL`, `no 2fa store`, `2fa store migrate` and the store lines of `show 2fa`,
 * on an appliance in this process and a real PostgreSQL (Debian `postgresql`, started here): the
 * password sealed in the running config, the switch at the next reboot with nothing mixed between the
 * stores, migrate's refusal, and a user change while the database is away.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminSession, newApp, runLines } from '../helpers/app.ts';
import { DB_PASSWORD, DB_USER, PgServer } from '../helpers/postgres.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
let server: PgServer;

before(async () => {
  server = await PgServer.start();
});
after(async () => {
  await server?.stop();
});

/** A fresh database; its URL without the password. */
const database = () => server.database();
const withPassword = (url: string) => url.replace(`${DB_USER}@`, `${DB_USER}:${DB_PASSWORD}@`);

test('the password is sealed in the running config (or shown in clear without password-encryption), and boots back', async () => {
  const url = await database();
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    const out = await runLines(s, 'conf t', 'service 2fa', `2fa store postgresql ${withPassword(url)}`);
    assert.match(out, /% The 2FA user store changes at the next reboot; copy the users into it first with "2fa store migrate"/);
    const shown = env.app.renderRunning('2fa');
    assert.match(shown, new RegExp(`^ ?2fa store postgresql ${url.replace(/[.?]/g, '\\$&')} password 8 \\S+$`, 'm'));
    assert.ok(!shown.includes(DB_PASSWORD), 'no clear password in the running config');
    await runLines(s, 'no service password-encryption');
    assert.match(env.app.renderRunning('2fa'), new RegExp(`2fa store postgresql \\S+ password ${DB_PASSWORD}\\n`));
    await runLines(s, 'service password-encryption', 'end', 'write memory');
    await env.app.reboot();
    assert.equal(env.app.renderRunning('2fa'), shown, 'render → boot → render is the same text');
    assert.deepEqual(env.app.config.current.twofa.store, { url, password: DB_PASSWORD });
    // The same database with the password as a separate word, sealed or not.
    const sealed = /password (8 \S+)/.exec(shown)![1]!;
    await runLines(adminSession(env.app), 'conf t', `2fa store postgresql ${url} password ${sealed}`);
    assert.deepEqual(env.app.config.current.twofa.store, { url, password: DB_PASSWORD });
  } finally {
    await env.close();
  }
});

test('bad URLs and a password given twice are refused with the reason', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'service 2fa');
    const cases: [string, RegExp][] = [
      ['2fa store postgresql postgresql://db.example/awplus', /% Invalid PostgreSQL URL: the URL names no user/],
      ['2fa store postgresql postgresql://u@db.example', /% Invalid PostgreSQL URL: the URL names no database/],
      ['2fa store postgresql postgresql://u@db.example/d?statement_timeout=0', /% Invalid PostgreSQL URL: unknown URL parameter statement_timeout/],
      ['2fa store postgresql postgresql://u@db.example/d?sslmode=allow', /% Invalid PostgreSQL URL: sslmode must be one of disable, require, verify-full/],
      ['2fa store postgresql postgresql://u:a@db.example/d password b', /% The password is given twice/],
      ['2fa store postgresql mysql://u@db.example/d', /% Invalid input detected at '\^' marker\./],
    ];
    for (const [line, expected] of cases) assert.match(await runLines(s, line), expected, line);
    assert.equal(env.app.config.current.twofa.store, undefined, 'nothing configured by a refused line');
    await runLines(s, 'no service 2fa');
    assert.match(await runLines(s, '2fa store postgresql postgresql://u@db.example/d'), /% The 2FA service is not enabled/);
  } finally {
    await env.close();
  }
});

test('migrate, then reboot onto PostgreSQL; no 2fa store and reboot: back to the embedded users, nothing mixed', async () => {
  const url = await database();
  const env = await newApp();
  try {
    let s = adminSession(env.app);
    await runLines(s, 'conf t', 'service 2fa', 'end', `2fa create user alice secret ${SECRET}`, '2fa create user bob random-secret hotp');
    assert.match(await runLines(s, '2fa store migrate'), /% No PostgreSQL store is configured/);
    await runLines(s, 'conf t', `2fa store postgresql ${withPassword(url)}`, 'end', 'write memory');
    let shown = await runLines(s, 'show 2fa');
    assert.match(shown, /User store +: embedded \(flash\)\n/);
    assert.match(shown, new RegExp(`Store after reboot +: PostgreSQL ${url.replace(/[.?]/g, '\\$&')}\\n`));
    assert.equal(await runLines(s, '2fa store migrate'), 'Copied 2 2FA users into the PostgreSQL store (0 already there, the same)\n');
    assert.equal(await runLines(s, '2fa store migrate'), 'Copied 0 2FA users into the PostgreSQL store (2 already there, the same)\n');

    await env.app.reboot();
    s = adminSession(env.app);
    shown = await runLines(s, 'show 2fa');
    assert.match(shown, new RegExp(`User store +: PostgreSQL ${url.replace(/[.?]/g, '\\$&')}\\n`));
    assert.match(shown, /Store state +: Available, round trip \d+\.\d\d ms\n/);
    assert.doesNotMatch(shown, /Store after reboot/);
    assert.match(shown, /Users +: 2 \(TOTP 1, HOTP 1,/);
    assert.equal((await env.app.twofa.get('alice'))!.secret, SECRET, 'the secret opens on PostgreSQL');
    // A user created now lives in PostgreSQL only; a change of alice there is not written to flash.
    await runLines(s, '2fa create user carol random-secret', '2fa user alice email alice@example.com');
    assert.equal((await env.app.userStore.embedded.get('carol')), undefined);
    assert.equal((await env.app.userStore.embedded.get('alice'))!.email, undefined);

    // The embedded store's alice differs from the shared one now: migrate refuses, and copies nothing.
    await env.app.userStore.embedded.put({ ...(await env.app.userStore.embedded.get('alice'))!, email: 'other@example.com' });
    assert.match(await runLines(s, '2fa store migrate'), /^% 1 2FA user already in the PostgreSQL store with other data \(alice\); nothing was copied\n$/);

    const back = await runLines(s, 'conf t', 'no 2fa store', 'end', 'write memory');
    assert.match(back, /% The 2FA user store changes back to the embedded one at the next reboot/);
    await env.app.reboot();
    s = adminSession(env.app);
    shown = await runLines(s, 'show 2fa');
    assert.match(shown, /User store +: embedded \(flash\)\n/);
    assert.match(shown, /Users +: 2 \(TOTP 1, HOTP 1,/);
    assert.equal(await env.app.twofa.get('carol'), undefined, "PostgreSQL's users are not in the embedded store");
    assert.equal((await env.app.twofa.get('alice'))!.email, 'other@example.com');
  } finally {
    await env.close();
  }
});

test('the database away: user changes are refused with a % error and change nothing; show 2fa says so; back by itself', async () => {
  const url = await database();
  const env = await newApp({ files: { 'default.cfg': `service 2fa\n2fa store postgresql ${withPassword(url)}\n` } });
  try {
    const s = adminSession(env.app);
    await runLines(s, `2fa create user alice secret ${SECRET}`);
    await server.stopServer('fast');
    try {
      for (const line of ['2fa create user bob random-secret', '2fa reset scratch-codes alice', '2fa delete user alice', 'show 2fa users']) {
        assert.match(await runLines(s, line), /^% The 2FA user store is unavailable, nothing was changed: .+\n$/, line);
      }
      const shown = await runLines(s, 'show 2fa');
      assert.match(shown, /Store state +: Unavailable since .* UTC, \d+ refused: .+ \(logins needing a code are rejected\)\n/);
      assert.equal(env.log.events.filter((e) => e.event === '2fa-store-unavailable').length, 1, 'logged once');
      assert.ok(!JSON.stringify(env.log.events).includes(DB_PASSWORD), 'no password in the log');
    } finally {
      await server.startServer();
    }
    let shown = '';
    for (let i = 0; i < 50 && !/Store state +: Available/.test(shown); i++) {
      await new Promise((r) => setTimeout(r, 200));
      shown = await runLines(s, 'show 2fa');
    }
    assert.match(shown, /Store state +: Available/);
    assert.match(shown, /Store outages +: 1, the last from .* UTC, \d+ refused: /);
    assert.match(await runLines(s, 'show 2fa users'), /alice +TOTP +5 /, 'alice is still there, with 5 scratch codes');
    assert.doesNotMatch(await runLines(s, 'show 2fa users'), /bob/);
  } finally {
    await env.close();
  }
});

test('export and import user data work on the PostgreSQL store (merge, and replace in one transaction)', async () => {
  const url = await database();
  const env = await newApp({ files: { 'default.cfg': `service 2fa\n2fa store postgresql ${withPassword(url)}\n` } });
  try {
    const answers = ['export-pass-1', 'export-pass-1', 'export-pass-1', 'export-pass-1'];
    const s = adminSession(env.app);
    s.setHost({ ask: async () => answers.shift() ?? null });
    await runLines(s, `2fa create user alice secret ${SECRET}`, '2fa create user bob random-secret hotp');
    const exported = await runLines(s, '2fa export user-data');
    const file = /to file (atl2fausers-\d{8}-\d{4}\.dat)/.exec(exported)?.[1];
    assert.ok(file, exported);
    await runLines(s, '2fa delete user alice', '2fa create user carol random-secret');
    const imported = await runLines(s, 'conf t', 'no service 2fa', 'end', `2fa import user-data source flash:/${file} replace`, 'conf t', 'service 2fa', 'end');
    assert.match(imported, /Successfully imported 2FA user data \(2 users\)\./);
    assert.deepEqual((await env.app.twofa.list()).map((u) => u.name), ['alice', 'bob'], 'replace: exactly the exported users');
    assert.equal((await env.app.twofa.get('alice'))!.secret, SECRET);
    const rows = await server.sql('SELECT name FROM awplus_2fa_users ORDER BY name', url.slice(url.lastIndexOf('/') + 1));
    assert.deepEqual(rows.map((r) => r['name']), ['alice', 'bob'], 'in the database itself');
    assert.equal((await env.app.userStore.embedded.list()).length, 0, 'nothing written to the embedded store');
  } finally {
    await env.close();
  }
});
