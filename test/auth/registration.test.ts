/**
 * The self-registration page's backend (src/auth/registration.ts) with the real 2FA facade on a
 * temporary flash and the local-user first factor: a TOTP user only after the password, no second
 * secret, the lockout shared with code checks (durable for users with a record, in memory and bounded
 * for names without), failures answered in the same time, nothing secret in the audit log.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { LocalUsers } from '../../src/auth/local-users.ts';
import { SelfRegistration, type SelfRegistrationOptions } from '../../src/auth/registration.ts';
import type { RegistrationResult } from '../../src/auth/types.ts';
import { Counted } from '../helpers/first-factor.ts';
import { TWOFA_DEFAULTS } from '../../src/config/model.ts';
import { TwoFactor } from '../../src/twofa/facade.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { LevelUserStore } from '../../src/twofa/store/level.ts';
import type { TwoFaSettings } from '../../src/twofa/types.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { hashPassword } from '../../src/util/crypt.ts';
import { Flash } from '../../src/util/flash.ts';
import { memoryLog } from '../../src/util/log.ts';
import { tempFlash } from '../helpers/app.ts';
import { checkOnEventLoop, searchOnEventLoop } from '../helpers/on-event-loop.ts';

const T = 1_700_000_010_000;


async function setup(o: { settings?: Partial<TwoFaSettings>; backend?: Partial<SelfRegistrationOptions>; dir?: string } = {}) {
  const flash = o.dir ? { dir: o.dir, cleanup: () => {} } : tempFlash();
  const clock = new ManualClock(T);
  const s: TwoFaSettings = { ...TWOFA_DEFAULTS, enabled: true, emailOtp: false, label: 'VPN gateway', issuer: 'Example Corp', lockoutFailures: 3, lockoutPeriod: 60, ...o.settings };
  const log = memoryLog();
  const twofa = new TwoFactor(await LevelUserStore.open(flash.dir), clock, log, () => s, new Flash(flash.dir), searchOnEventLoop);
  const users = new Map(['alice', 'bob', 'carol', 'dave', 'skipper', 'mailer'].map((n) => [n, hashPassword(`${n}-pw`)]));
  const local = new Counted(new LocalUsers(() => users, checkOnEventLoop));
  const backend = new SelfRegistration({ twofa, firstFactor: () => local, settings: () => s, clock, monotonic: () => performance.now(), log, failureFloorMs: 0, ...o.backend });
  return {
    twofa,
    local,
    clock,
    log,
    backend,
    dir: flash.dir,
    register: (user: string, password = `${user}-pw`) => backend.register(user, password, '192.0.2.7'),
    async close(keep = false) {
      await twofa.close();
      if (!keep) flash.cleanup();
    },
  };
}

const ok = (r: RegistrationResult) => {
  assert.ok(r.ok, `registered: ${JSON.stringify(r)}`);
  return r;
};

test('the password first, then a new TOTP user with the configured issuer and label, 5 scratch codes', async () => {
  const e = await setup();
  try {
    const r = ok(await e.register('alice'));
    assert.equal(e.local.asked, 1);
    const stored = await e.twofa.get('alice');
    assert.equal(stored?.kind, 'totp');
    assert.equal(r.secret, stored.secret);
    assert.equal(r.secret.length, 32, '160-bit random secret');
    assert.deepEqual(r.scratchCodes, stored.scratch);
    assert.equal(r.scratchCodes.length, 5);
    assert.equal(r.otpauthUrl, `otpauth://totp/alice@VPN%20gateway?secret=${r.secret}&issuer=Example%20Corp`);
    // The new secret works as a second factor at once.
    assert.deepEqual(await e.twofa.verify('alice', hotp(base32Decode(r.secret)!, timeStep(T))), { ok: true, reason: 'ok-totp' });

    assert.deepEqual(await e.register('nobody'), { ok: false, reason: 'bad-login' }, 'unknown name');
    assert.deepEqual(await e.register('bob', 'wrong'), { ok: false, reason: 'bad-login' }, 'wrong password');
    assert.equal(await e.twofa.get('nobody'), undefined);
    assert.equal(await e.twofa.get('bob'), undefined, 'nothing is created without the password');
  } finally {
    await e.close();
  }
});

test('a registered user is refused without a new secret, but only after the password; 2fa delete user lets them register again', async () => {
  const e = await setup();
  try {
    const first = ok(await e.register('alice'));
    assert.deepEqual(await e.register('alice', 'wrong'), { ok: false, reason: 'bad-login' }, 'no probing: a wrong password tells nothing about the record');
    assert.deepEqual(await e.register('alice'), { ok: false, reason: 'already-registered' });
    assert.equal((await e.twofa.get('alice'))?.secret, first.secret, 'the secret is unchanged');

    await e.twofa.createUser('skipper', { skip: true });
    assert.deepEqual(await e.register('skipper'), { ok: false, reason: 'already-registered' }, 'an administrator exempted skip-2fa users');
    // An address-only (e-mail OTP) user may add an app, as `2fa create user` allows; the address stays.
    await e.twofa.setEmail('mailer', 'mailer@example.test');
    ok(await e.register('mailer'));
    assert.equal((await e.twofa.get('mailer'))?.email, 'mailer@example.test');

    await e.twofa.deleteUser('alice');
    const again = ok(await e.register('alice'));
    assert.notEqual(again.secret, first.secret);
  } finally {
    await e.close();
  }
});

test('two registrations of one user at once: exactly one secret', async () => {
  const e = await setup();
  try {
    const results = await Promise.all([e.register('carol'), e.register('carol'), e.register('carol')]);
    assert.equal(results.filter((r) => r.ok).length, 1);
    assert.deepEqual(results.filter((r) => !r.ok), [
      { ok: false, reason: 'already-registered' },
      { ok: false, reason: 'already-registered' },
    ]);
  } finally {
    await e.close();
  }
});

test('a registered user: wrong passwords count in the record, durably, in the lockout code checks use (both ways)', async () => {
  const e = await setup();
  try {
    const r = ok(await e.register('alice'));
    for (let i = 0; i < 3; i++) assert.deepEqual(await e.register('alice', 'wrong'), { ok: false, reason: 'bad-login' });
    const asked = e.local.asked;
    assert.deepEqual(await e.register('alice'), { ok: false, reason: 'locked-out' });
    assert.equal(e.local.asked, asked, 'a locked-out user’s password is not checked');
    // The same lockout refuses a RADIUS login's good code.
    assert.deepEqual(await e.twofa.verify('alice', hotp(base32Decode(r.secret)!, timeStep(T))), { ok: false, reason: 'locked-out' });
    assert.ok(e.log.events.some((x) => x.event === '2fa-locked-out' && x.fields['user'] === 'alice'));
    // Durable: the lockout is in the store after a restart.
    await e.close(true);
    const again = await setup({ dir: e.dir });
    try {
      assert.equal(await again.twofa.lockedOut('alice'), true);
      assert.deepEqual(await again.register('alice'), { ok: false, reason: 'locked-out' });
      again.clock.advance(61_000);
      assert.deepEqual(await again.register('alice'), { ok: false, reason: 'already-registered' }, 'the lockout ends after the period');
    } finally {
      await again.close();
    }
  } finally {
    await e.close();
  }
});

test('bad codes over RADIUS lock a registered user out of the page too', async () => {
  const e = await setup();
  try {
    ok(await e.register('bob'));
    for (let i = 0; i < 3; i++) assert.equal((await e.twofa.verify('bob', '000000')).ok, false);
    assert.deepEqual(await e.register('bob'), { ok: false, reason: 'locked-out' });
  } finally {
    await e.close();
  }
});

test('names without a record are locked out in memory: same rule, cleared by an administrator, bounded', async () => {
  const e = await setup({ backend: { trackedNames: 2 } });
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(await e.register('dave', 'wrong'), { ok: false, reason: 'bad-login' });
    assert.ok(e.log.events.some((x) => x.event === 'registration-locked-out' && x.fields['user'] === 'dave'));
    assert.equal(e.backend.lockedOutNames(), 1);
    const asked = e.local.asked;
    assert.deepEqual(await e.register('dave'), { ok: false, reason: 'locked-out' }, 'even with the right password');
    assert.deepEqual(await e.register('ghost'), { ok: false, reason: 'bad-login' }, 'an unknown name without failures is not locked');
    assert.equal(e.local.asked, asked + 1);
    assert.equal(await e.twofa.get('dave'), undefined, 'no record is made for counting');

    assert.equal(e.backend.clearLockout('dave', 'manager'), true);
    assert.ok(e.log.events.some((x) => x.event === 'registration-lockout-cleared' && x.fields['user'] === 'dave' && x.fields['wasLocked'] === true));
    assert.equal(e.backend.clearLockout('dave', 'manager'), false, 'nothing left to clear');
    ok(await e.register('dave'));

    // The period passes: the failures are forgotten.
    for (let i = 0; i < 2; i++) await e.register('carol', 'wrong');
    e.clock.advance(61_000);
    await e.register('carol', 'wrong');
    ok(await e.register('carol'));

    // At most 2 names are remembered: a third pushes the oldest out (a name-spraying client cannot grow memory).
    for (let i = 0; i < 3; i++) await e.register('x1', 'wrong');
    assert.deepEqual(await e.register('x1'), { ok: false, reason: 'locked-out' });
    await e.register('x2', 'wrong');
    await e.register('x3', 'wrong');
    assert.deepEqual(await e.register('x1'), { ok: false, reason: 'bad-login' }, 'x1 was forgotten');
  } finally {
    await e.close();
  }
});

test('a first factor that does not answer: no verdict, nothing counted', async () => {
  const e = await setup();
  try {
    ok(await e.register('alice'));
    e.local.answer = 'timeout';
    for (let i = 0; i < 5; i++) assert.deepEqual(await e.register('alice', 'whatever'), { ok: false, reason: 'first-factor-timeout' });
    for (let i = 0; i < 5; i++) assert.deepEqual(await e.register('dave', 'whatever'), { ok: false, reason: 'first-factor-timeout' });
    assert.deepEqual((await e.twofa.get('alice'))?.failures, []);
    assert.equal(e.backend.lockedOutNames(), 0);
  } finally {
    await e.close();
  }
});

test('names an administrator could not name in the CLI are refused before the first factor', async () => {
  const e = await setup();
  try {
    for (const name of ['bob smith', 'quote"d', 'tab\tbed', 'x'.repeat(254)]) {
      assert.deepEqual(await e.register(name, 'pw'), { ok: false, reason: 'bad-login' }, name);
    }
    assert.equal(e.local.asked, 0);
    ok(await e.register('alice'));
  } finally {
    await e.close();
  }
});

test('every failed login takes the same time: unknown name, wrong password, lockout', async () => {
  const FLOOR = 400;
  const e = await setup({ backend: { failureFloorMs: FLOOR } });
  try {
    ok(await e.register('alice'));
    // Lock dave (no record) and alice (record) out first.
    for (let i = 0; i < 3; i++) await e.register('dave', 'wrong');
    for (let i = 0; i < 3; i++) await e.register('alice', 'wrong');
    const timed = async (user: string, password: string) => {
      const t0 = performance.now();
      const r = await e.register(user, password);
      return { r, ms: performance.now() - t0 };
    };
    const cases = [
      await timed('no-such-user', 'pw'), // no hash to check at all
      await timed('bob', 'wrong'), // a crypt(3) check
      await timed('dave', 'dave-pw'), // locked out in memory: the first factor is not asked
      await timed('alice', 'alice-pw'), // locked out in the record
      await timed('bob smith', 'pw'), // refused before the first factor
    ];
    for (const c of cases) {
      assert.equal(c.r.ok, false);
      assert.ok(c.ms >= FLOOR - 5 && c.ms < FLOOR + 200, `${JSON.stringify(c.r)} took ${c.ms.toFixed(1)} ms`);
    }
    // A success is not delayed: the floor only hides what a failure would tell.
    const t0 = performance.now();
    ok(await e.register('bob'));
    assert.ok(performance.now() - t0 < FLOOR, 'a registration is answered at once');
  } finally {
    await e.close();
  }
});

test('the audit log carries names and reasons, never a password, secret or scratch code', async () => {
  const e = await setup();
  try {
    const r = ok(await e.register('alice'));
    for (let i = 0; i < 3; i++) await e.register('alice', 'S3cret-typo');
    for (let i = 0; i < 3; i++) await e.register('dave', 'An0ther-typo');
    e.backend.clearLockout('dave', 'manager');
    const text = JSON.stringify(e.log.events);
    for (const secret of ['alice-pw', 'S3cret-typo', 'An0ther-typo', r.secret, ...r.scratchCodes]) assert.ok(!text.includes(secret), `the log holds ${secret}`);
    assert.ok(e.log.events.some((x) => x.event === '2fa-user-created' && x.fields['user'] === 'alice'));
  } finally {
    await e.close();
  }
});
