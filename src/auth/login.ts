/**
 * The login decision (SPEC §5, §6), the same for every front door. AW+ order (基本仕様: 第1要素への送信は
 * 第2要素の処理後): the second factor is checked first and only a good code reaches the first factor, so
 * a bad code never reaches the first-factor server; a good code is held, and spent only when the
 * whole login is accepted.
 *
 * A request is one of four kinds, recognised in this order:
 *   first factor only    — a plain RADIUS client: the password alone
 *   code only            — `2fa only`: the password field is the code; a directory in front checked the password
 *   challenge answer     — the code (or the mailed code) for a challenge issued earlier
 *   password and code    — SCRV1, `2fa-in-password`, or the password alone, answered with a challenge
 */
import type { CodeCheck, Policy, TwoFactor } from '../twofa/facade.ts';
import { sameCode } from '../twofa/otp.ts';
import { StoreUnavailableError } from '../twofa/store/types.ts';
import type { ChallengeStore } from './challenges.ts';
import { parseScrv1, splitCodeFromPassword } from './password-formats.ts';
import type { FirstFactorSource, LoginDecision, LoginRequest } from './types.ts';

export interface LoginDeps {
  readonly twofa: Pick<TwoFactor, 'policy' | 'check' | 'verify' | 'hasScratchCode' | 'mailCode'>;
  readonly challenges: ChallengeStore;
  readonly now: () => number;
}

/** What a challenge shows (pam_radius, OpenVPN CRV1 clients) [OURS]. */
export const CODE_PROMPT = 'Enter your verification code';
export const EMAIL_PROMPT = 'Enter the verification code sent to your e-mail address';
/** Why no mail went out: told to the user (RADIUS Reply-Message), since trying again at once cannot work [OURS]. */
export const MAIL_RATE_LIMITED = 'A code was mailed less than 30 seconds ago: use it, or wait and try again';

type Kind = { readonly name: string; readonly matches: (r: LoginRequest) => boolean; readonly decide: (r: LoginRequest, d: LoginDeps) => Promise<LoginDecision> };

const KINDS: readonly Kind[] = [
  { name: 'first factor only', matches: (r) => r.mode === 'off', decide: firstFactorOnly },
  { name: 'code only', matches: (r) => r.mode === 'only', decide: codeOnly },
  { name: 'challenge answer', matches: (r) => r.challenge !== undefined, decide: challengeAnswer },
  { name: 'password and code', matches: () => true, decide: passwordAndCode },
];

/**
 * Decides one login. A user store that cannot answer (a shared store's server is away or too slow)
 * refuses every login that needs it: fail closed, reason `store-unavailable` (SPEC §16); the store
 * logs the outage itself, once.
 */
export function login(r: LoginRequest, deps: LoginDeps): Promise<LoginDecision> {
  return KINDS.find((k) => k.matches(r))!
    .decide(r, deps)
    .catch((e: unknown) => {
      if (e instanceof StoreUnavailableError) return reject('store-unavailable');
      throw e;
    });
}

const reject = (reason: string): LoginDecision => ({ kind: 'reject', reason });
const accept = (reason: string): LoginDecision => ({ kind: 'accept', reason });

/** The first factor's refusal as a decision, or its accept (with the address it may carry). */
async function firstFactor(source: FirstFactorSource, user: string, password: Buffer): Promise<{ refused: LoginDecision } | { refused?: undefined; email?: string }> {
  const { answer, email } = await source.check(user, password);
  if (answer === 'accept') return { email };
  return { refused: reject(answer === 'timeout' ? 'first-factor-timeout' : 'first-factor-reject') };
}

async function firstFactorOnly(r: LoginRequest): Promise<LoginDecision> {
  const { answer } = await r.firstFactor.check(r.user, r.password);
  return answer === 'accept' ? accept('password') : reject(answer === 'timeout' ? 'first-factor-timeout' : 'bad-password');
}

/** Policies that need no code: skip-2fa, unconfigured users (SPEC §5). */
function withoutCode(policy: Policy): LoginDecision | undefined {
  if (policy === 'reject') return reject('unconfigured-user');
  if (policy === 'skip') return accept('skip-2fa');
  if (policy === 'first-factor') return accept('unconfigured-user');
  return undefined;
}

/**
 * The code first: for a TOTP/HOTP or skip-2fa user that is the whole login, decided on one read of the
 * user's record (on a shared store every read is a query). Only a user without a secret (`no-user`,
 * an address alone: `no-code`) is looked at again, for what SPEC §5 says of them.
 */
async function codeOnly(r: LoginRequest, d: LoginDeps): Promise<LoginDecision> {
  const v = await d.twofa.verify(r.user, r.password.toString('utf8'));
  if (v.reason !== 'no-user' && v.reason !== 'no-code') return v.ok ? accept(v.reason) : reject(v.reason);
  const policy = await d.twofa.policy(r.user);
  if (policy === 'email') return mailChallenge(r, d, undefined);
  // `code`: the user was given a secret since the code was checked; this login stays refused.
  return withoutCode(policy) ?? reject(v.reason);
}

async function challengeAnswer(r: LoginRequest, d: LoginDeps): Promise<LoginDecision> {
  const pending = d.challenges.take(r.challenge!, r.user, r.client, d.now());
  if (!pending) return reject('bad-state');
  // E-mail OTP: the first factor passed before the mail went out; the code is single use (the
  // challenge is gone now) and valid for 5 minutes (SPEC §7).
  if (pending.emailCode !== undefined) {
    return sameCode(pending.emailCode, r.password.toString('utf8').trim()) ? accept('ok-email') : reject('bad-code');
  }
  return codeThenFirstFactor(r, d, pending.password ?? Buffer.alloc(0), r.password.toString('utf8'));
}

async function passwordAndCode(r: LoginRequest, d: LoginDeps): Promise<LoginDecision> {
  const policy = await d.twofa.policy(r.user, { firstFactorMayGiveEmail: r.firstFactor.mayGiveEmail?.() === true });
  const split =
    parseScrv1(r.password) ??
    (r.codeInPassword && policy === 'code' ? await splitCodeFromPassword(r.password, (c) => d.twofa.hasScratchCode(r.user, c)) : { password: r.password, code: undefined });
  if (policy === 'email') return mailChallenge(r, d, split.password);
  if (policy === 'email-or-reject') return mailChallenge(r, d, split.password, 'reject');
  if (policy === 'email-or-first-factor') return mailChallenge(r, d, split.password, 'first-factor');
  if (policy !== 'code') {
    const decided = withoutCode(policy)!;
    if (decided.kind === 'reject') return decided;
    return (await firstFactor(r.firstFactor, r.user, split.password)).refused ?? decided;
  }
  if (split.code === undefined) {
    const token = d.challenges.open(r.user, r.client, split.password, d.now());
    return { kind: 'challenge', reason: 'challenge', token, prompt: CODE_PROMPT };
  }
  return codeThenFirstFactor(r, d, split.password, split.code);
}

/** The code first; a good one is held while the first factor is asked, then spent or released. */
async function codeThenFirstFactor(r: LoginRequest, d: LoginDeps, password: Buffer, code: string): Promise<LoginDecision> {
  const check: CodeCheck = await d.twofa.check(r.user, code);
  if (!check.ok) return reject(check.reason);
  let settled = false;
  try {
    const { answer } = await r.firstFactor.check(r.user, password);
    if (answer === 'timeout') return reject('first-factor-timeout');
    if (answer === 'reject') {
      settled = true;
      await check.refuse();
      return reject('first-factor-reject');
    }
    settled = true;
    const spent = await check.accept();
    return spent.ok ? accept(check.reason) : reject(spent.reason);
  } finally {
    // Timeout, or an exception from the first factor: nothing spent, nothing counted.
    if (!settled) await check.abandon();
  }
}

/**
 * E-mail OTP (SPEC §7): the first factor first (unless a directory in front of us did it: `password`
 * undefined, `2fa only`), then a code by mail, answered through a challenge. The first factor may give
 * the address (LDAP `email-attribute`); `otherwise` is the policy when neither it nor the store has one.
 */
async function mailChallenge(r: LoginRequest, d: LoginDeps, password: Buffer | undefined, otherwise?: 'reject' | 'first-factor'): Promise<LoginDecision> {
  let email: string | undefined;
  if (password !== undefined) {
    const ff = await firstFactor(r.firstFactor, r.user, password);
    if (ff.refused) return ff.refused;
    email = ff.email;
  }
  // No address from the directory for a user with none registered: SPEC §5 as for any user without one.
  if (otherwise !== undefined && email === undefined) return withoutCode(otherwise)!;
  const mailed = await d.twofa.mailCode(r.user, email);
  if (!mailed.ok) return mailed.reason === 'mail-rate-limited' ? { kind: 'reject', reason: mailed.reason, message: MAIL_RATE_LIMITED } : reject(mailed.reason);
  const token = d.challenges.open(r.user, r.client, undefined, d.now(), { emailCode: mailed.code, ttlMs: mailed.expires - d.now() });
  return { kind: 'challenge', reason: 'email-sent', token, prompt: EMAIL_PROMPT };
}
