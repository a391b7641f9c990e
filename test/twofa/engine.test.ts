/**
 * The 2FA engine through its facade, with a real store on a temporary flash and an injected clock:
 * RFC vectors, TOTP windows, single use, HOTP look-ahead, scratch codes, skew learning (libpam
 * check_time_skew, 2fa-engine.md §1.7), lockout, durability across reopen.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateSync } from 'otplib';
import { TWOFA_DEFAULTS } from '../../src/config/model.ts';
import { base32Decode, base32Encode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { TwoFactor, TwoFaError } from '../../src/twofa/facade.ts';
import { LevelUserStore } from '../../src/twofa/store/level.ts';
import type { UserStore } from '../../src/twofa/store/types.ts';
import type { TwoFaSettings, TwoFaUser } from '../../src/twofa/types.ts';
import { Flash } from '../../src/util/flash.ts';
import { windowOffsets } from '../../src/twofa/verifier.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';
import { tempFlash } from '../helpers/app.ts';
import { searchOnEventLoop } from '../helpers/on-event-loop.ts';

const vectors = (name: string) =>
  readFileSync(new URL(`../../fixtures/vectors/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'));

const RFC_KEY = Buffer.from('12345678901234567890');
const SECRET = base32Encode(RFC_KEY); // GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
const T = 1_700_000_010_000; // a step boundary + 10 s
const STEP = timeStep(T);

/** AW+ defaults as the engine sees them (service on, label = the default hostname). */
const DEFAULTS: TwoFaSettings = { ...TWOFA_DEFAULTS, enabled: true, emailOtp: false, label: 'awplus' };

async function engine(settings: Partial<TwoFaSettings> = {}, dir?: string) {
  const flash = dir ? { dir, cleanup: () => {} } : tempFlash();
  const clock = new ManualClock(T);
  const s = { ...DEFAULTS, ...settings };
  const log = memoryLog();
  const store = await LevelUserStore.open(flash.dir);
  const svc = new TwoFactor(store, clock, log, () => s, new Flash(flash.dir), searchOnEventLoop);
  return {
    svc,
    clock,
    s,
    log,
    dir: flash.dir,
    code: (step: number) => hotp(RFC_KEY, step),
    async close(keep = false) {
      await svc.close();
      if (!keep) flash.cleanup();
    },
  };
}

test('RFC 4226 and RFC 6238 vectors; otplib agrees', () => {
  for (const [counter, code] of vectors('rfc4226.tsv')) assert.equal(hotp(RFC_KEY, Number(counter)), code);
  for (const [time, , , code] of vectors('rfc6238.tsv')) {
    assert.equal(hotp(RFC_KEY, timeStep(Number(time) * 1000)), code);
    assert.equal(generateSync({ secret: SECRET, epoch: Number(time) }), code);
  }
  assert.equal(SECRET, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  assert.deepEqual(base32Decode('gezd gnbv-gy3t qojq gezd gnbv gy3t qojq'), RFC_KEY);
});

test('TOTP windows 1, 3, 5 and 6 accept exactly the libpam offsets', async () => {
  assert.deepEqual(windowOffsets(1), [0, 0]);
  assert.deepEqual(windowOffsets(3), [-1, 1]);
  assert.deepEqual(windowOffsets(5), [-2, 2]);
  assert.deepEqual(windowOffsets(6), [-2, 3]);
  for (const [w, lo, hi] of [[1, 0, 0], [3, -1, 1], [5, -2, 2], [6, -2, 3]] as const) {
    for (let off = lo - 1; off <= hi + 1; off++) {
      const e = await engine({ totpWindow: w, allowReuse: true });
      await e.svc.createUser('u', { secret: SECRET });
      const r = await e.svc.verify('u', e.code(STEP + off));
      assert.equal(r.ok, off >= lo && off <= hi, `window ${w} offset ${off}: ${r.reason}`);
      await e.close();
    }
  }
});

test('single use: the same step is refused, and so is any older one; allow-reuse lifts it for TOTP', async () => {
  const e = await engine();
  await e.svc.createUser('u', { secret: SECRET });
  assert.deepEqual(await e.svc.verify('u', e.code(STEP)), { ok: true, reason: 'ok-totp' });
  assert.deepEqual(await e.svc.verify('u', e.code(STEP)), { ok: false, reason: 'reused' });
  assert.deepEqual(await e.svc.verify('u', e.code(STEP - 1)), { ok: false, reason: 'reused' });
  assert.deepEqual(await e.svc.verify('u', e.code(STEP + 1)), { ok: true, reason: 'ok-totp' });
  await e.close();
  const r = await engine({ allowReuse: true });
  await r.svc.createUser('u', { secret: SECRET });
  assert.equal((await r.svc.verify('u', r.code(STEP))).ok, true);
  assert.equal((await r.svc.verify('u', r.code(STEP))).ok, true);
  await r.close();
});

test('HOTP: counter starts at 1, look-ahead window, no advance on failure, no replay', async () => {
  const e = await engine({ hotpWindow: 3 });
  await e.svc.createUser('h', { secret: SECRET, hotp: true });
  assert.equal((await e.svc.get('h'))!.counter, 1);
  assert.equal((await e.svc.verify('h', hotp(RFC_KEY, 4))).ok, false, 'outside 1..3');
  assert.equal((await e.svc.get('h'))!.counter, 1, 'a failure does not advance');
  assert.deepEqual(await e.svc.verify('h', hotp(RFC_KEY, 3)), { ok: true, reason: 'ok-hotp' });
  assert.equal((await e.svc.get('h'))!.counter, 4);
  assert.equal((await e.svc.verify('h', hotp(RFC_KEY, 3))).ok, false, 'replay');
  assert.equal((await e.svc.verify('h', hotp(RFC_KEY, 2))).ok, false, 'older');
  assert.equal((await e.svc.verify('h', hotp(RFC_KEY, 4))).ok, true);
  await e.close();
});

test('scratch codes: checked first, each accepted once, reset replaces all five', async () => {
  const e = await engine();
  const u = await e.svc.createUser('u', { secret: SECRET });
  assert.equal(u.scratch.length, 5);
  for (const c of u.scratch) assert.match(c, /^[1-9]\d{7}$/);
  const [first, second] = u.scratch;
  assert.deepEqual(await e.svc.verify('u', first!), { ok: true, reason: 'ok-scratch' });
  assert.deepEqual(await e.svc.verify('u', first!), { ok: false, reason: 'bad-code' });
  assert.equal((await e.svc.get('u'))!.scratch.length, 4);
  const fresh = await e.svc.resetScratch('u');
  assert.equal(fresh.length, 5);
  assert.equal((await e.svc.verify('u', second!)).ok, false, 'old codes stop working');
  assert.equal((await e.svc.verify('u', fresh[0]!)).ok, true);
  await e.close();
});

test('skew learning: three consecutive findings with agreeing skews store their average and accept the third', async () => {
  const e = await engine({ skewAdjust: true, maxSkew: 3000 });
  await e.svc.createUser('u', { secret: SECRET });
  const skews = [-1001, -1000, -1000];
  const reasons = [];
  for (let i = 0; i < 3; i++) {
    e.clock.set(T + i * 30_000);
    reasons.push((await e.svc.verify('u', e.code(STEP + i + skews[i]!))).reason);
  }
  assert.deepEqual(reasons, ['skew-learning', 'skew-learning', 'ok-skew-learned']);
  assert.equal((await e.svc.get('u'))!.skew, -1000); // trunc(-3001/3)
  // The third code's step is used: replaying it is refused; the next step works with the correction.
  assert.deepEqual(await e.svc.verify('u', e.code(STEP + 2 - 1000)), { ok: false, reason: 'reused' });
  e.clock.set(T + 3 * 30_000);
  assert.deepEqual(await e.svc.verify('u', e.code(STEP + 3 - 1000)), { ok: true, reason: 'ok-totp' });
  await e.svc.resetSkew('u');
  assert.equal((await e.svc.get('u'))!.skew, 0);
  await e.close();
});

test('skew learning: two steps apart is still consecutive; three apart, inconsistent skews or the same code twice are not', async () => {
  const run = async (plan: [number, number][]) => {
    const e = await engine({ skewAdjust: true });
    await e.svc.createUser('u', { secret: SECRET });
    const out = [];
    for (const [stepOffset, skew] of plan) {
      e.clock.set(T + stepOffset * 30_000);
      out.push((await e.svc.verify('u', e.code(STEP + stepOffset + skew))).reason);
    }
    const skew = (await e.svc.get('u'))!.skew;
    await e.close();
    return { out, skew };
  };
  assert.deepEqual(await run([[0, 100], [2, 100], [4, 101]]), { out: ['skew-learning', 'skew-learning', 'ok-skew-learned'], skew: 100 });
  assert.deepEqual((await run([[0, 100], [3, 100], [4, 100]])).out, ['skew-learning', 'skew-learning', 'skew-learning']);
  // libpam compares each skew with the newest: -1001, -1000, -999 fails (|−1001 − −999| = 2).
  assert.deepEqual((await run([[0, -1001], [1, -1000], [2, -999]])).out, ['skew-learning', 'skew-learning', 'skew-learning']);
  // The same code twice in a row is ignored (no finding recorded), so three attempts learn nothing.
  assert.deepEqual((await run([[0, 50], [0, 50], [1, 50]])).out, ['skew-learning', 'skew-learning', 'skew-learning']);
  // Beyond max-skew (1500 by default) nothing is found: a plain bad code.
  assert.deepEqual((await run([[0, 1501]])).out, ['bad-code']);
  // Without skew-adjust, a far code is simply wrong.
  const off = await engine();
  await off.svc.createUser('u', { secret: SECRET });
  assert.equal((await off.svc.verify('u', off.code(STEP + 100))).reason, 'bad-code');
  await off.close();
});

test('lockout: N consecutive failures within the period lock the user until the period has passed', async () => {
  const e = await engine({ lockoutFailures: 3, lockoutPeriod: 60 });
  await e.svc.createUser('u', { secret: SECRET });
  for (let i = 0; i < 3; i++) assert.equal((await e.svc.verify('u', '000000')).ok, false);
  assert.deepEqual(await e.svc.verify('u', e.code(STEP)), { ok: false, reason: 'locked-out' });
  assert.equal(e.svc.counters.lockouts, 1);
  e.clock.advance(61_000);
  assert.deepEqual(await e.svc.verify('u', e.code(timeStep(e.clock.now()))), { ok: true, reason: 'ok-totp' });
  // A success resets the count; failures spread beyond the period do not lock.
  for (let i = 0; i < 2; i++) await e.svc.verify('u', '000000');
  e.clock.advance(61_000);
  await e.svc.verify('u', '000000');
  assert.notEqual((await e.svc.verify('u', e.code(timeStep(e.clock.now())))).reason, 'locked-out');
  await e.close();
});

test('malformed input, unknown users, skip-2fa users and the unconfigured-user policy', async () => {
  const e = await engine();
  await e.svc.createUser('u', { secret: SECRET });
  await e.svc.createUser('s', { skip: true });
  for (const bad of ['12345', '1234567', '00050548', 'abcdef', '']) assert.equal((await e.svc.verify('u', bad)).ok, false, bad);
  assert.deepEqual(await e.svc.verify('nobody', '123456'), { ok: false, reason: 'no-user' });
  assert.deepEqual(await e.svc.verify('s', ''), { ok: true, reason: 'skip-2fa' });
  assert.equal(await e.svc.policy('u'), 'code');
  assert.equal(await e.svc.policy('s'), 'skip');
  assert.equal(await e.svc.policy('nobody'), 'first-factor');
  await e.close();
  const strict = await engine({ rejectUnconfigured: true });
  assert.equal(await strict.svc.policy('nobody'), 'reject');
  await strict.close();
  // E-mail OTP: a user without TOTP/HOTP and without an address waits for the first factor's address
  // only when that first factor can give one (LDAP); the fallback is the policy without an address.
  const mail = await engine({ emailOtp: true });
  await mail.svc.setEmail('m', 'm@example.test');
  assert.equal(await mail.svc.policy('m'), 'email');
  assert.equal(await mail.svc.policy('m', { firstFactorMayGiveEmail: true }), 'email');
  assert.equal(await mail.svc.policy('nobody'), 'first-factor');
  assert.equal(await mail.svc.policy('nobody', { firstFactorMayGiveEmail: true }), 'email-or-first-factor');
  await mail.close();
  const mailStrict = await engine({ emailOtp: true, rejectUnconfigured: true });
  await mailStrict.svc.createUser('s', { skip: true });
  assert.equal(await mailStrict.svc.policy('nobody', { firstFactorMayGiveEmail: true }), 'email-or-reject');
  assert.equal(await mailStrict.svc.policy('s', { firstFactorMayGiveEmail: true }), 'skip');
  await mailStrict.close();
  const off = await engine();
  assert.equal(await off.svc.policy('nobody', { firstFactorMayGiveEmail: true }), 'first-factor', 'e-mail OTP off');
  await off.close();
});

test('secrets: at least 26 base32 characters, any case, spaces allowed; duplicates refused', async () => {
  const e = await engine();
  await assert.rejects(e.svc.createUser('a', { secret: 'JBSWY3DPEHPK3PXP' }), (err: TwoFaError) => err.code === 'short-secret');
  await assert.rejects(e.svc.createUser('a', { secret: 'JBSWY3DPEHPK3PXP1BSWY3DPEHPK' }), (err: TwoFaError) => err.code === 'bad-secret');
  const u = await e.svc.createUser('a', { secret: 'gezd gnbv gy3t qojq gezd gnbv gy3t qojq' });
  assert.equal(u.secret, SECRET);
  await assert.rejects(e.svc.createUser('a', { secret: SECRET }), (err: TwoFaError) => err.code === 'exists');
  const r = await e.svc.createUser('r', {});
  assert.match(r.secret, /^[A-Z2-7]{32}$/);
  await e.close();
});

test('state survives reopening the store: users, used steps, counters, scratch codes; secrets are not stored in clear', async () => {
  const e = await engine();
  const u = await e.svc.createUser('u', { secret: SECRET });
  await e.svc.verify('u', e.code(STEP));
  await e.svc.verify('u', u.scratch[0]!);
  await e.close(true);
  const again = await engine({}, e.dir);
  assert.deepEqual(await again.svc.verify('u', again.code(STEP)), { ok: false, reason: 'reused' });
  assert.deepEqual(await again.svc.verify('u', u.scratch[0]!), { ok: false, reason: 'bad-code' });
  assert.deepEqual((await again.svc.get('u'))!.scratch, u.scratch.slice(1));
  await again.close(true);
  // Nothing under the store directory holds the secret or a scratch code in clear.
  const files = readdirSync(join(e.dir, '.2fa-users')).map((f) => readFileSync(join(e.dir, '.2fa-users', f)).toString('latin1'));
  assert.ok(files.length > 0);
  for (const text of files) assert.ok(!text.includes(SECRET) && !u.scratch.some((c) => text.includes(c)), 'secrets are encrypted at rest');
  rmSync(e.dir, { recursive: true, force: true });
});

test('a login writes only its state record; a lockout cleared, a used step, a new scratch list and an old-layout record all survive reopening', async () => {
  const e = await engine({ lockoutFailures: 2, lockoutPeriod: 60 });
  await e.svc.createUser('u', { secret: SECRET });
  await e.svc.createUser('old', { secret: SECRET });
  await e.svc.verify('u', e.code(STEP));
  for (let i = 0; i < 2; i++) await e.svc.verify('u', '000000');
  await e.svc.clearLockout('u', 'test');
  await e.close(true);

  // What is on disk: the whole records under the names, u's state (the lockout gone: null, not left out) under NUL + name.
  const { Level } = await import('level');
  const db = new Level<string, string>(join(e.dir, '.2fa-users'), { valueEncoding: 'utf8' });
  const state = JSON.parse(await db.get('\u0000u')) as { lastStep: number; lockedUntil: unknown; failures: unknown[] };
  assert.equal(state.lastStep, STEP);
  assert.equal(state.lockedUntil, null);
  assert.deepEqual(state.failures, []);
  assert.equal(JSON.parse(await db.get('u')).lastStep, undefined, 'the whole record is as created');
  // A store written before state records existed: the state is inside the whole record.
  await db.put('old', JSON.stringify({ ...(JSON.parse(await db.get('old')) as object), lastStep: STEP }));
  await db.close();

  const again = await engine({ lockoutFailures: 2, lockoutPeriod: 60 }, e.dir);
  assert.deepEqual(await again.svc.verify('u', again.code(STEP)), { ok: false, reason: 'reused' });
  assert.deepEqual(await again.svc.verify('old', again.code(STEP)), { ok: false, reason: 'reused' });
  assert.equal((await again.svc.get('u'))!.lockedUntil, undefined);
  // A whole record written again (new scratch codes) takes the state with it and drops the state record.
  await again.svc.resetScratch('u');
  await again.close(true);
  const db2 = new Level<string, string>(join(e.dir, '.2fa-users'), { valueEncoding: 'utf8' });
  assert.equal(await db2.get('\u0000u'), undefined);
  assert.equal(JSON.parse(await db2.get('u')).lastStep, STEP);
  await db2.close();
  const third = await engine({}, e.dir);
  assert.deepEqual(await third.svc.verify('u', third.code(STEP)), { ok: false, reason: 'reused' });
  await assert.rejects(third.svc.createUser('\u0000x', { secret: SECRET }), /cannot start with a NUL/);
  await third.close();
});

test('concurrent verifications of one code: exactly one is accepted', async () => {
  const e = await engine();
  await e.svc.createUser('u', { secret: SECRET });
  const results = await Promise.all(Array.from({ length: 10 }, () => e.svc.verify('u', e.code(STEP))));
  assert.equal(results.filter((r) => r.ok).length, 1);
  await e.close();
});

test('only security state waits for a synced write: a reused step (allow-reuse) answers while the disk is held, a new step waits for it', async () => {
  const flash = tempFlash();
  const s = { ...DEFAULTS, allowReuse: true };
  const level = await LevelUserStore.open(flash.dir);
  // A store whose durable writes wait until released: the disk stands still.
  let held: (() => void)[] = [];
  const store: UserStore = Object.assign(Object.create(level) as UserStore, {
    update: async (prev: TwoFaUser, next: TwoFaUser, opts?: { durable?: boolean }) => {
      if (opts?.durable !== false) await new Promise<void>((release) => held.push(release));
      return level.update(prev, next, opts);
    },
  });
  const clock = new ManualClock(T);
  const svc = new TwoFactor(store, clock, memoryLog(), () => s, new Flash(flash.dir), searchOnEventLoop);
  try {
    await svc.createUser('u', { secret: SECRET });
    // A new step: its single-use mark must be on disk first, so the answer waits.
    let answered = false;
    const first = svc.verify('u', hotp(RFC_KEY, STEP)).then((r) => ((answered = true), r));
    for (let i = 0; i < 20 && held.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(held.length, 1, 'the first login waits for its durable write');
    assert.equal(answered, false, 'no answer before the mark is on disk');
    held.shift()!();
    assert.deepEqual(await first, { ok: true, reason: 'ok-totp' });
    // The same step again (allow-reuse): nothing but the last-login stamp changes, nothing waits.
    let again: unknown;
    void svc.verify('u', hotp(RFC_KEY, STEP)).then((r) => (again = r));
    for (let i = 0; i < 50 && again === undefined; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(again, { ok: true, reason: 'ok-totp' }, 'answered without waiting for the disk');
    assert.equal(held.length, 0, 'the reused step asked for no durable write');
  } finally {
    for (const release of held) release();
    held = [];
    await svc.close();
    flash.cleanup();
  }
});

test('the background unsealing opens every record; one that does not open stays sealed for its reader alone', async () => {
  const e = await engine();
  await e.svc.createUser('alice', { secret: SECRET });
  await e.svc.createUser('bob', { secret: base32Encode(Buffer.alloc(20, 7)) });
  await e.close(true);
  // bob's record given alice's sealed blob: the user name is its associated data, so it cannot open.
  const { Level } = await import('level');
  const db = new Level<string, string>(join(e.dir, '.2fa-users'), { valueEncoding: 'utf8' });
  const alice = JSON.parse(await db.get('alice')) as { sealed: string };
  await db.put('bob', JSON.stringify({ ...(JSON.parse(await db.get('bob')) as object), sealed: alice.sealed }));
  await db.close();

  const store = await LevelUserStore.open(e.dir);
  try {
    store.unsealInBackground();
    // An exception in the background would end this process (and the test) here.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal((await store.get('alice'))?.secret, SECRET);
    await assert.rejects(store.get('bob'));
  } finally {
    await store.close();
    rmSync(e.dir, { recursive: true, force: true });
  }
});
