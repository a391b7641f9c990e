/**
 * The transport-neutral login decision (src/auth/login.ts) with the real 2FA facade on a temporary
 * flash and a manual clock: the four request kinds, AW+'s order (a bad code never reaches the first
 * factor), a good code held until the first factor answers, challenges bound to user and client.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChallengeStore } from '../../src/auth/challenges.ts';
import { LocalUsers } from '../../src/auth/local-users.ts';
import { login } from '../../src/auth/login.ts';
import type { FirstFactorResult, FirstFactorSource, LoginRequest } from '../../src/auth/types.ts';
import { Counted } from '../helpers/first-factor.ts';
import { TWOFA_DEFAULTS } from '../../src/config/model.ts';
import { EmailOtp, type Mailer } from '../../src/twofa/email-otp.ts';
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

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const T = 1_700_000_010_000;
const code = (offset = 0) => hotp(base32Decode(SECRET)!, timeStep(T) + offset);
const b64 = (s: string) => Buffer.from(s).toString('base64');


/** A directory: accepts `password` for anyone, with the address `emails` has for the user. */
class Directory implements FirstFactorSource {
  asked = 0;
  constructor(
    private readonly emails: Record<string, string>,
    private readonly password = 'dirpw',
  ) {}
  mayGiveEmail(): boolean {
    return true;
  }
  async check(user: string, password: Buffer): Promise<FirstFactorResult> {
    this.asked++;
    if (password.toString() !== this.password) return { answer: 'reject' };
    return this.emails[user] ? { answer: 'accept', email: this.emails[user] } : { answer: 'accept' };
  }
}

async function setup(settings: Partial<TwoFaSettings> = {}) {
  const flash = tempFlash();
  const clock = new ManualClock(T);
  const s: TwoFaSettings = { ...TWOFA_DEFAULTS, enabled: true, emailOtp: false, label: 'awplus', ...settings };
  const log = memoryLog();
  const mails: { to: string; text: string }[] = [];
  const mailer: Mailer = { send: async (to, _subject, text) => void mails.push({ to, text }) };
  const email = new EmailOtp(() => mailer, () => ({ subject: 'code', body: '%%CODE%%' }), clock, log);
  const twofa = new TwoFactor(await LevelUserStore.open(flash.dir), clock, log, () => s, new Flash(flash.dir), searchOnEventLoop, email);
  await twofa.createUser('alice', { secret: SECRET });
  await twofa.createUser('skipper', { skip: true });
  const table = new Map([['alice', hashPassword('alicepw')], ['skipper', hashPassword('skippw')], ['nobody2fa', hashPassword('pw')]]);
  const local = new Counted(new LocalUsers(() => table, checkOnEventLoop));
  const deps = { twofa, challenges: new ChallengeStore(), now: () => clock.now() };
  const request = (r: Omit<Partial<LoginRequest>, 'password'> & { password: string | Buffer }): LoginRequest => ({
    user: 'alice',
    client: '10.0.0.1',
    mode: 'on',
    codeInPassword: false,
    firstFactor: local,
    ...r,
    password: Buffer.isBuffer(r.password) ? r.password : Buffer.from(r.password),
  });
  return {
    twofa,
    local,
    clock,
    log,
    mails,
    decide: (r: Omit<Partial<LoginRequest>, 'password'> & { password: string | Buffer }) => login(request(r), deps),
    async close() {
      await twofa.close();
      flash.cleanup();
    },
  };
}

test('password and code: SCRV1 accepted once; a bad code never reaches the first factor', async () => {
  const e = await setup();
  try {
    assert.deepEqual(await e.decide({ password: `SCRV1:${b64('alicepw')}:${b64(code())}` }), { kind: 'accept', reason: 'ok-totp' });
    assert.equal(e.local.asked, 1);
    assert.deepEqual(await e.decide({ password: `SCRV1:${b64('alicepw')}:${b64(code())}` }), { kind: 'reject', reason: 'reused' });
    assert.deepEqual(await e.decide({ password: `SCRV1:${b64('alicepw')}:${b64('000000')}` }), { kind: 'reject', reason: 'bad-code' });
    assert.equal(e.local.asked, 1, 'rejected codes did not reach the first factor');
  } finally {
    await e.close();
  }
});

test('a good code with a wrong password is not spent, and the refusal counts toward the lockout', async () => {
  const e = await setup({ lockoutFailures: 2 });
  try {
    const scratch = (await e.twofa.get('alice'))!.scratch[0]!;
    assert.deepEqual(await e.decide({ password: `SCRV1:${b64('WRONG')}:${b64(scratch)}` }), { kind: 'reject', reason: 'first-factor-reject' });
    const after = (await e.twofa.get('alice'))!;
    assert.ok(after.scratch.includes(scratch), 'the scratch code is still there');
    assert.equal(after.lastLogin, undefined, 'no login was stamped');
    assert.equal(e.twofa.counters.accepted, 0);
    // The retry with the right password uses the same scratch code.
    assert.deepEqual(await e.decide({ password: `SCRV1:${b64('alicepw')}:${b64(scratch)}` }), { kind: 'accept', reason: 'ok-scratch' });
    // Two refusals lock the user: a captured code is no password oracle.
    await e.decide({ password: `SCRV1:${b64('WRONG')}:${b64(code())}` });
    await e.decide({ password: `SCRV1:${b64('WRONG2')}:${b64(code())}` });
    assert.deepEqual(await e.decide({ password: `SCRV1:${b64('alicepw')}:${b64(code())}` }), { kind: 'reject', reason: 'locked-out' });
  } finally {
    await e.close();
  }
});

test('a first factor that does not answer leaves the code unused and counts nothing', async () => {
  const e = await setup({ lockoutFailures: 1 });
  try {
    e.local.answer = 'timeout';
    assert.deepEqual(await e.decide({ password: `SCRV1:${b64('alicepw')}:${b64(code())}` }), { kind: 'reject', reason: 'first-factor-timeout' });
    e.local.answer = undefined;
    assert.deepEqual(await e.decide({ password: `SCRV1:${b64('alicepw')}:${b64(code())}` }), { kind: 'accept', reason: 'ok-totp' });
  } finally {
    await e.close();
  }
});

test('2fa-in-password: six digits, or an eight-digit scratch code', async () => {
  const e = await setup();
  try {
    const scratch = (await e.twofa.get('alice'))!.scratch[1]!;
    assert.deepEqual(await e.decide({ password: `alicepw${code()}`, codeInPassword: true }), { kind: 'accept', reason: 'ok-totp' });
    assert.deepEqual(await e.decide({ password: `alicepw${scratch}`, codeInPassword: true }), { kind: 'accept', reason: 'ok-scratch' });
  } finally {
    await e.close();
  }
});

test('the password alone: a challenge bound to the user and the client, answered once', async () => {
  const e = await setup();
  try {
    const c = await e.decide({ password: 'alicepw' });
    assert.equal(c.kind, 'challenge');
    if (c.kind !== 'challenge') return;
    assert.equal(e.local.asked, 0, 'the first factor waits for the code');
    assert.deepEqual(await e.decide({ password: code(), challenge: c.token, client: '10.0.0.2' }), { kind: 'reject', reason: 'bad-state' });
    const again = await e.decide({ password: 'alicepw' });
    assert.equal(again.kind, 'challenge');
    if (again.kind !== 'challenge') return;
    assert.deepEqual(await e.decide({ password: code(), challenge: again.token }), { kind: 'accept', reason: 'ok-totp' });
    assert.deepEqual(await e.decide({ password: code(1), challenge: again.token }), { kind: 'reject', reason: 'bad-state' });
    e.clock.advance(121_000);
    const late = await e.decide({ password: 'alicepw' });
    if (late.kind !== 'challenge') return assert.fail('challenge expected');
    e.clock.advance(121_000);
    assert.deepEqual(await e.decide({ password: code(8), challenge: late.token }), { kind: 'reject', reason: 'bad-state' });
  } finally {
    await e.close();
  }
});

test('code only (2fa only): no first factor; first factor only (plain NAS): no code', async () => {
  const e = await setup();
  try {
    assert.deepEqual(await e.decide({ mode: 'only', password: code() }), { kind: 'accept', reason: 'ok-totp' });
    assert.deepEqual(await e.decide({ mode: 'only', user: 'skipper', password: 'anything' }), { kind: 'accept', reason: 'skip-2fa' });
    assert.equal(e.local.asked, 0);
    assert.deepEqual(await e.decide({ mode: 'off', password: 'alicepw' }), { kind: 'accept', reason: 'password' });
    assert.deepEqual(await e.decide({ mode: 'off', password: 'wrong' }), { kind: 'reject', reason: 'bad-password' });
  } finally {
    await e.close();
  }
});

test('code only (2fa only) for users without a TOTP/HOTP secret: SPEC §5 as for any login, a bad code counted once', async () => {
  for (const rejectUnconfigured of [false, true]) {
    const e = await setup({ rejectUnconfigured, lockoutFailures: 2 });
    try {
      const unconfigured = rejectUnconfigured ? { kind: 'reject', reason: 'unconfigured-user' } : { kind: 'accept', reason: 'unconfigured-user' };
      assert.deepEqual(await e.decide({ mode: 'only', user: 'nobody', password: '123456' }), unconfigured);
      // An address alone, with e-mail OTP off: an unconfigured user still.
      await e.twofa.setEmail('mailer', 'mailer@example.com');
      assert.deepEqual(await e.decide({ mode: 'only', user: 'mailer', password: '123456' }), unconfigured);
      assert.equal(e.mails.length, 0);
      // A code user's wrong code: one failure, and the second locks (lockout-failures 2).
      assert.deepEqual(await e.decide({ mode: 'only', password: '000000' }), { kind: 'reject', reason: 'bad-code' });
      assert.equal((await e.twofa.get('alice'))!.failures.length, 1);
      assert.equal(e.local.asked, 0, 'no first factor is asked with 2fa only');
    } finally {
      await e.close();
    }
  }
  const e = await setup({ emailOtp: true });
  try {
    await e.twofa.setEmail('mailer', 'mailer@example.com');
    const d = await e.decide({ mode: 'only', user: 'mailer', password: 'anything' });
    assert.equal(d.kind, 'challenge');
    assert.equal(d.reason, 'email-sent');
    assert.deepEqual(e.mails.map((m) => m.to), ['mailer@example.com']);
  } finally {
    await e.close();
  }
});

test('policies: skip-2fa and unconfigured users need the first factor; reject-unconfigured-users refuses them', async () => {
  const e = await setup();
  try {
    assert.deepEqual(await e.decide({ user: 'skipper', password: 'skippw' }), { kind: 'accept', reason: 'skip-2fa' });
    assert.deepEqual(await e.decide({ user: 'skipper', password: 'bad' }), { kind: 'reject', reason: 'first-factor-reject' });
    assert.deepEqual(await e.decide({ user: 'nobody2fa', password: 'pw' }), { kind: 'accept', reason: 'unconfigured-user' });
  } finally {
    await e.close();
  }
  const strict = await setup({ rejectUnconfigured: true });
  try {
    assert.deepEqual(await strict.decide({ user: 'nobody2fa', password: 'pw' }), { kind: 'reject', reason: 'unconfigured-user' });
    assert.equal(strict.local.asked, 0);
  } finally {
    await strict.close();
  }
});

test('e-mail OTP with the address from the directory: first factor first, then the mail, then the code', async () => {
  const e = await setup({ emailOtp: true });
  try {
    const dir = new Directory({ dora: 'dora@example.test', eve: 'eve@example.test' });
    // A wrong password sends nothing.
    assert.deepEqual(await e.decide({ user: 'dora', password: 'wrong', firstFactor: dir }), { kind: 'reject', reason: 'first-factor-reject' });
    assert.equal(e.mails.length, 0);
    const c = await e.decide({ user: 'dora', password: 'dirpw', firstFactor: dir });
    if (c.kind !== 'challenge') return assert.fail(`challenge expected, got ${JSON.stringify(c)}`);
    assert.equal(c.reason, 'email-sent');
    assert.deepEqual(e.mails.map((m) => m.to), ['dora@example.test']);
    assert.equal(dir.asked, 2, 'the first factor was asked before the mail');
    assert.deepEqual(await e.decide({ user: 'dora', password: e.mails[0]!.text, challenge: c.token, firstFactor: dir }), { kind: 'accept', reason: 'ok-email' });
    assert.equal(dir.asked, 2, 'the mailed code is not followed by another first factor');
    // An address registered with `2fa user NAME email` wins over the directory's.
    await e.twofa.setEmail('eve', 'eve.private@example.test');
    assert.equal((await e.decide({ user: 'eve', password: 'dirpw', firstFactor: dir })).kind, 'challenge');
    assert.equal(e.mails.at(-1)!.to, 'eve.private@example.test');
  } finally {
    await e.close();
  }
});

test('e-mail OTP, no address anywhere: the rules for a user without one, after the first factor', async () => {
  const lax = await setup({ emailOtp: true });
  try {
    const dir = new Directory({});
    assert.deepEqual(await lax.decide({ user: 'fred', password: 'dirpw', firstFactor: dir }), { kind: 'accept', reason: 'unconfigured-user' });
    assert.deepEqual(await lax.decide({ user: 'fred', password: 'bad', firstFactor: dir }), { kind: 'reject', reason: 'first-factor-reject' });
    assert.equal(lax.mails.length, 0);
    // A TOTP user is a TOTP user: the directory's address plays no part, the code comes first.
    const withMail = new Directory({ alice: 'alice@example.test' }, 'alicepw');
    assert.deepEqual(await lax.decide({ password: `SCRV1:${b64('alicepw')}:${b64('000000')}`, firstFactor: withMail }), { kind: 'reject', reason: 'bad-code' });
    assert.equal(withMail.asked, 0, 'a bad code never reaches the directory');
    assert.deepEqual(await lax.decide({ password: `SCRV1:${b64('alicepw')}:${b64(code())}`, firstFactor: withMail }), { kind: 'accept', reason: 'ok-totp' });
    assert.equal(lax.mails.length, 0);
  } finally {
    await lax.close();
  }
  const strict = await setup({ emailOtp: true, rejectUnconfigured: true });
  try {
    const dir = new Directory({});
    assert.deepEqual(await strict.decide({ user: 'fred', password: 'dirpw', firstFactor: dir }), { kind: 'reject', reason: 'unconfigured-user' });
    assert.equal(dir.asked, 1, 'only the first factor can tell whether there is an address');
    // A source that can give no address: refused before it is asked, as before.
    assert.deepEqual(await strict.decide({ user: 'nobody2fa', password: 'pw' }), { kind: 'reject', reason: 'unconfigured-user' });
    assert.equal(strict.local.asked, 0);
  } finally {
    await strict.close();
  }
});

test('e-mail OTP: an address from the directory that is not one mailbox is refused, nothing is sent', async () => {
  const e = await setup({ emailOtp: true });
  try {
    const dir = new Directory({ mallory: 'mallory@example.test, boss@example.test', nat: 'not an address' });
    assert.deepEqual(await e.decide({ user: 'mallory', password: 'dirpw', firstFactor: dir }), { kind: 'reject', reason: 'mail-bad-address' });
    assert.deepEqual(await e.decide({ user: 'nat', password: 'dirpw', firstFactor: dir }), { kind: 'reject', reason: 'mail-bad-address' });
    assert.equal(e.mails.length, 0);
    assert.ok(e.log.events.some((x) => x.event === 'email-otp-bad-address' && x.fields?.['user'] === 'mallory'), 'logged');
  } finally {
    await e.close();
  }
});
