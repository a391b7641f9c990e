/**
 * The second-factor check with google-authenticator-libpam semantics and AW+ defaults
 * (shared/research/2fa-engine.md §1, SPEC §5). Pure: it gets a user record, the input and the time,
 * and returns the decision plus the record to store; the long skew search is handed in (the appliance
 * runs it in a worker thread, so it holds no other login).
 */
import { hotpValue, SCRATCH_CODE, scratchIndex, timeStep } from './otp.ts';
import type { TwoFaSettings, TwoFaUser } from './types.ts';

/** Why a verification ended as it did (audit log, statistics). */
export type VerifyReason =
  | 'ok-totp'
  | 'ok-hotp'
  | 'ok-scratch'
  | 'ok-skew-learned'
  | 'bad-code'
  | 'malformed'
  | 'reused'
  | 'locked-out'
  | 'skew-learning';

/** A verification's outcome. `next` is the record to persist (always, when it differs). */
export interface VerifyOutcome {
  readonly ok: boolean;
  readonly reason: VerifyReason;
  readonly next: TwoFaUser;
  /** The user just became locked out (for the audit log). */
  readonly lockedOut?: boolean;
  /** A skew correction was learned (steps). */
  readonly learnedSkew?: number;
}

/** TOTP window W as libpam: steps base-floor((W-1)/2) … base+floor(W/2) (2fa-engine.md §1.4). */
export function windowOffsets(w: number): [number, number] {
  return [0 - Math.floor((w - 1) / 2), Math.floor(w / 2)];
}

/**
 * libpam check_time_skew: searches ±maxSkew steps around `tm` for `code`, nearest first (−i before
 * +i), without stopping at the first hit so the time taken does not tell how far the code was. About
 * 11 ms for ±3000 steps.
 */
export function skewOf(key: Uint8Array, code: string, tm: number, maxSkew: number): number | undefined {
  const value = Number(code);
  let found: number | undefined;
  for (let i = 1; i <= maxSkew; i++) {
    const behind = hotpValue(key, tm - i) === value;
    const ahead = hotpValue(key, tm + i) === value;
    if (found === undefined && behind) found = -i;
    if (found === undefined && ahead) found = i;
  }
  return found;
}

/** skewOf as the verifier is given it: in a worker thread (app.ts), or in place (tests). */
export type SkewSearch = (key: Uint8Array, code: string, tm: number, maxSkew: number) => Promise<number | undefined>;

/**
 * The lockout rule (RFC 4226 §7.3, ours): `failures` failures within `period` seconds lock for `period`
 * seconds. The failure times after one more at `now`, and the lock it starts (none: undefined).
 */
export function countFailure(failures: readonly number[], now: number, s: Pick<TwoFaSettings, 'lockoutFailures' | 'lockoutPeriod'>): { failures: number[]; lockedUntil: number | undefined } {
  const period = s.lockoutPeriod * 1000;
  const recent = [...failures.filter((t) => t > now - period), now];
  return recent.length >= s.lockoutFailures ? { failures: [], lockedUntil: now + period } : { failures: recent, lockedUntil: undefined };
}

/** A failed attempt: counted toward the lockout, which it may start. */
export function failed(user: TwoFaUser, reason: VerifyReason, now: number, s: Pick<TwoFaSettings, 'lockoutFailures' | 'lockoutPeriod'>): VerifyOutcome {
  const counted = countFailure(user.failures, now, s);
  if (counted.lockedUntil === undefined) return { ok: false, reason, next: { ...user, failures: counted.failures }, lockedOut: false };
  return { ok: false, reason, next: { ...user, ...counted }, lockedOut: true };
}

function succeeded(user: TwoFaUser, reason: VerifyReason, now: number, extra: Partial<TwoFaUser> = {}): VerifyOutcome {
  return { ok: true, reason, next: { ...user, ...extra, failures: [], lockedUntil: undefined, lastLogin: now } };
}

/** Checks `input` for `user` at appliance time `now` (ms). */
export async function verifyCode(user: TwoFaUser, input: string, now: number, s: TwoFaSettings, key: Buffer, search: SkewSearch): Promise<VerifyOutcome> {
  if (user.lockedUntil !== undefined && now < user.lockedUntil) return { ok: false, reason: 'locked-out', next: user };
  const code = input.trim();

  // Scratch codes first, each once (libpam check_scratch_codes; AW+ 5 backup codes).
  if (SCRATCH_CODE.test(code)) {
    const i = scratchIndex(user.scratch, code);
    if (i >= 0) return succeeded(user, 'ok-scratch', now, { scratch: user.scratch.filter((_, j) => j !== i) });
    return failed(user, 'bad-code', now, s);
  }
  if (!/^\d{6}$/.test(code)) return failed(user, 'malformed', now, s);
  // Six digits, leading zeros included: as a number it stands for exactly one code (otp.ts hotpValue).
  const value = Number(code);

  if (user.kind === 'hotp') {
    // Counters c … c+W-1; a match at c+i sets c = c+i+1; a failure does not advance (SPEC §5).
    const c = user.counter;
    for (let i = 0; i < s.hotpWindow; i++) {
      if (hotpValue(key, c + i) === value) return succeeded(user, 'ok-hotp', now, { counter: c + i + 1 });
    }
    return failed(user, 'bad-code', now, s);
  }

  const tm = timeStep(now);
  const [lo, hi] = windowOffsets(s.totpWindow);
  let matched: number | undefined;
  // Lowest step first, stopping at the first match, as libpam check_timebased_code: the time taken
  // tells only where in the window a good code was, which its holder knows anyway.
  for (let i = lo; i <= hi && matched === undefined; i++) {
    const t = tm + user.skew + i;
    if (hotpValue(key, t) === value) matched = t;
  }
  if (matched !== undefined) {
    // Single use: a step once accepted, or any older one, is refused (SPEC §5; libpam DISALLOW_REUSE).
    if (!s.allowReuse && user.lastStep !== undefined && matched <= user.lastStep) return failed(user, 'reused', now, s);
    return succeeded(user, 'ok-totp', now, { lastStep: Math.max(matched, user.lastStep ?? matched) });
  }
  if (!s.skewAdjust) return failed(user, 'bad-code', now, s);
  return learnSkew(user, code, tm, now, s, key, search);
}

/** libpam check_time_skew (2fa-engine.md §1.7), with the third attempt's step marked used. */
async function learnSkew(user: TwoFaUser, code: string, tm: number, now: number, s: TwoFaSettings, key: Buffer, search: SkewSearch): Promise<VerifyOutcome> {
  // A search that could not run (the worker threads busy or stopping; a failed thread is logged by
  // them) finds nothing: the code is outside the window, a failure whether or not it is searched.
  const skew = await search(key, code, tm, s.maxSkew).catch(() => undefined);
  if (skew === undefined) return failed(user, 'bad-code', now, s);
  const last = user.skewHistory[user.skewHistory.length - 1];
  // The same code twice in a row: the user is "getting desperate"; nothing learned.
  if (last && tm + skew === last.step + last.skew) return failed(user, 'skew-learning', now, s);
  const history = [...user.skewHistory, { step: tm, skew }].slice(-3);
  if (history.length === 3) {
    const [a, b, c] = history as [{ step: number; skew: number }, { step: number; skew: number }, { step: number; skew: number }];
    const consecutive = a.step < b.step && b.step <= a.step + 2 && b.step < c.step && c.step <= b.step + 2;
    // libpam compares each earlier skew with the newest one, not pairwise.
    const agree = Math.abs(a.skew - c.skew) <= 1 && Math.abs(b.skew - c.skew) <= 1;
    if (consecutive && agree) {
      const learned = Math.trunc((a.skew + b.skew + c.skew) / 3);
      // libpam leaves this code replayable; we mark its step used in the new timeline.
      const outcome = succeeded(user, 'ok-skew-learned', now, { skew: learned, skewHistory: [], lastStep: tm + skew });
      return { ...outcome, learnedSkew: learned };
    }
  }
  return failed({ ...user, skewHistory: history }, 'skew-learning', now, s);
}
