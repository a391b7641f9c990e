/**
 * The authentication decision for one Access-Request (SPEC §6). For a `2fa` NAS the second factor is
 * checked first and only a passing code reaches the first factor (AW+ 基本仕様: 第1要素への送信は第2要素の処理後);
 * a failed code never reaches the first-factor server.
 */
import { sameCode } from '../twofa/otp.ts';
import type { TwoFactorService } from '../twofa/service.ts';
import type { ChallengeStore } from './challenges.ts';
import type { FirstFactor } from './first-factor.ts';
import { parseScrv1, splitCodeFromPassword } from './password-formats.ts';
import type { NasEntry, RadiusSettings } from './types.ts';

/** What to answer. `reason` goes to the audit log and the statistics. */
export interface Decision {
  readonly kind: 'accept' | 'reject' | 'challenge';
  readonly reason: string;
  readonly state?: Buffer;
  readonly message?: string;
}

export interface AuthRequest {
  readonly user: string;
  readonly password: Buffer;
  readonly state: Buffer | undefined;
  readonly nas: NasEntry;
}

export interface DecideDeps {
  readonly settings: () => RadiusSettings;
  readonly twofa: Pick<TwoFactorService, 'policy' | 'verify' | 'hasScratchCode' | 'mailCode'>;
  readonly firstFactor: FirstFactor;
  readonly challenges: ChallengeStore;
  readonly now: () => number;
}

/** Reply-Message of a challenge (shown by pam_radius, OpenVPN CRV1 bridges) [OURS]. */
export const CODE_PROMPT = 'Enter your verification code';
export const EMAIL_PROMPT = 'Enter the verification code sent to your e-mail address';

const reject = (reason: string): Decision => ({ kind: 'reject', reason });
const accept = (reason: string): Decision => ({ kind: 'accept', reason });

async function firstFactor(deps: DecideDeps, user: string, password: Buffer, secondReason: string): Promise<Decision> {
  const answer = await deps.firstFactor.check(user, password);
  if (answer === 'accept') return accept(secondReason);
  return reject(answer === 'timeout' ? 'first-factor-timeout' : 'first-factor-reject');
}

/**
 * E-mail OTP (SPEC §7): the first factor first (unless a directory in front of us did it: `password`
 * undefined, `2fa only`), then a code by mail, answered through a challenge.
 */
async function mailChallenge(req: AuthRequest, password: Buffer | undefined, deps: DecideDeps): Promise<Decision> {
  if (password !== undefined) {
    const first = await deps.firstFactor.check(req.user, password);
    if (first !== 'accept') return reject(first === 'timeout' ? 'first-factor-timeout' : 'first-factor-reject');
  }
  const mailed = await deps.twofa.mailCode(req.user);
  if (!mailed.ok) return reject(mailed.reason);
  const state = deps.challenges.open(req.user, req.nas.address, Buffer.alloc(0), deps.now(), {
    emailCode: mailed.code,
    ttlMs: mailed.expires - deps.now(),
  });
  return { kind: 'challenge', reason: 'email-sent', state, message: EMAIL_PROMPT };
}

export async function decide(req: AuthRequest, deps: DecideDeps): Promise<Decision> {
  const { user, nas } = req;
  // A plain NAS entry: the local user table only.
  if (nas.twofa === 'off') return deps.firstFactor.local(user, req.password) === 'accept' ? accept('password') : reject('bad-password');

  const policy = deps.twofa.policy(user);
  // `2fa only` (AWS Managed AD MFA, Duo duo_only_client): the password field is the code; the first
  // factor was checked by the directory in front of us.
  if (nas.twofa === 'only') {
    if (policy === 'reject') return reject('unconfigured-user');
    if (policy === 'email') return mailChallenge(req, undefined, deps);
    if (policy !== 'code') return accept(policy === 'skip' ? 'skip-2fa' : 'unconfigured-user');
    const r = await deps.twofa.verify(user, req.password.toString('utf8'));
    return r.ok ? accept(r.reason) : reject(r.reason);
  }

  // The answer to our Access-Challenge: the code, for the password the challenge kept.
  if (req.state) {
    const pending = deps.challenges.take(req.state, user, nas.address, deps.now());
    if (!pending) return reject('bad-state');
    // E-mail OTP: the first factor passed before the mail went out; the code is single use (the
    // challenge is gone now) and valid for 5 minutes (SPEC §7).
    if (pending.emailCode !== undefined) {
      return sameCode(pending.emailCode, req.password.toString('utf8').trim()) ? accept('ok-email') : reject('bad-code');
    }
    const r = await deps.twofa.verify(user, req.password.toString('utf8'));
    return r.ok ? firstFactor(deps, user, pending.password, r.reason) : reject(r.reason);
  }

  const s = deps.settings();
  const split =
    parseScrv1(req.password) ??
    (s.codeInPassword && policy === 'code' ? splitCodeFromPassword(req.password, (c) => deps.twofa.hasScratchCode(user, c)) : { password: req.password, code: undefined });

  if (policy === 'reject') return reject('unconfigured-user');
  if (policy === 'email') return mailChallenge(req, split.password, deps);
  if (policy === 'skip' || policy === 'first-factor') return firstFactor(deps, user, split.password, policy === 'skip' ? 'skip-2fa' : 'unconfigured-user');
  if (split.code === undefined) {
    const state = deps.challenges.open(user, nas.address, split.password, deps.now());
    return { kind: 'challenge', reason: 'challenge', state, message: CODE_PROMPT };
  }
  const r = await deps.twofa.verify(user, split.code);
  return r.ok ? firstFactor(deps, user, split.password, r.reason) : reject(r.reason);
}
