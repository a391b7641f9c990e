/**
 * 2FA user records and settings. Users live in their own store, never in the configuration
 * (awplus-spec.md §1 [FOUND S3]: "2FAユーザー情報…はコンフィグに含まれず、別に管理される").
 */

/**
 * How a user proves the second factor. `skip` users log in with the first factor alone; `email` users
 * have no TOTP/HOTP secret, only an address for e-mail OTP (`2fa user NAME email ADDRESS`).
 */
export type TwoFaKind = 'totp' | 'hotp' | 'skip' | 'email';

/** One 2FA user, as the engine sees it (secrets in clear; the store encrypts them at rest). */
export interface TwoFaUser {
  readonly name: string;
  readonly kind: TwoFaKind;
  /** Base32 secret; empty for `skip` users. */
  readonly secret: string;
  /** HOTP: the next counter to accept (starts at 1, what apps show first). */
  readonly counter: number;
  /** Remaining scratch codes (8 digits), each usable once. */
  readonly scratch: readonly string[];
  /** Learned TOTP clock correction, in steps. */
  readonly skew: number;
  /** Skew-learning findings: the last up to 3 (raw step, skew) pairs. */
  readonly skewHistory: readonly { readonly step: number; readonly skew: number }[];
  /** Newest accepted TOTP step: it and every older step are refused (single use). */
  readonly lastStep: number | undefined;
  /** Manually registered e-mail address (`2fa user NAME email`). */
  readonly email: string | undefined;
  /** Times (ms) of consecutive recent failures, for the lockout. */
  readonly failures: readonly number[];
  /** Locked out until this time (ms). */
  readonly lockedUntil: number | undefined;
  readonly lastLogin: number | undefined;
  readonly created: number;
}

/** The global 2FA settings the engine needs (from the running config). */
export interface TwoFaSettings {
  readonly enabled: boolean;
  readonly rejectUnconfigured: boolean;
  readonly allowReuse: boolean;
  readonly totpWindow: number;
  readonly hotpWindow: number;
  readonly skewAdjust: boolean;
  readonly maxSkew: number;
  readonly lockoutFailures: number;
  readonly lockoutPeriod: number;
  readonly emailOtp: boolean;
  /** The part after `@` in otpauth labels: `2fa label`, else the hostname. */
  readonly label: string;
  readonly issuer: string | undefined;
}

/** A new record of `kind` with no codes used, no failures and no login yet. */
export function newUser(name: string, kind: TwoFaKind, created: number, fields: Partial<Pick<TwoFaUser, 'secret' | 'scratch' | 'email'>> = {}): TwoFaUser {
  return {
    name,
    kind,
    secret: fields.secret ?? '',
    counter: 1,
    scratch: fields.scratch ?? [],
    skew: 0,
    skewHistory: [],
    lastStep: undefined,
    email: fields.email,
    failures: [],
    lockedUntil: undefined,
    lastLogin: undefined,
    created,
  };
}
