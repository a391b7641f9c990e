/**
 * What every front door (the RADIUS server, the registration page, the OpenVPN server) shares: one
 * login decision, transport-neutral, and the first-factor sources behind one interface (SPEC §6,
 * DESIGN src/auth). Nothing here knows RADIUS packets, HTTP or the OpenVPN management protocol.
 */

/**
 * A user name the CLI can name (its `login-name` type), so the registration page creates nothing an
 * administrator could not delete: no white space, quotes or control characters, at most the 253
 * octets of a RADIUS User-Name (RFC 2865 §5.1).
 */
export const isLoginName = (name: string): boolean => /^[^\s"\p{C}]+$/u.test(name) && Buffer.byteLength(name) <= 253;

/** What a first-factor source says about a user name and password. */
export type FirstFactorAnswer = 'accept' | 'reject' | 'timeout';

export interface FirstFactorResult {
  readonly answer: FirstFactorAnswer;
  /** The user's e-mail address as the source knows it (LDAP `email-attribute`), for e-mail OTP. */
  readonly email?: string;
}

/** Local users, upstream RADIUS hosts, LDAP directories: anything that checks a password. */
export interface FirstFactorSource {
  /** Never rejects: a source that cannot be reached answers 'timeout'. */
  check(user: string, password: Buffer): Promise<FirstFactorResult>;
  /**
   * Whether an accept may carry the user's e-mail address (an LDAP directory's `email-attribute`).
   * E-mail OTP then asks this source first for a user with no registered address. Absent: never.
   */
  mayGiveEmail?(): boolean;
}

/** How a front door wants a login judged. */
export type TwoFactorMode =
  /** The first factor alone (a plain RADIUS client). */
  | 'off'
  /** Second factor first, then the first factor (the OpenVPN path). */
  | 'on'
  /** The password field is the code alone; a directory in front already checked the password. */
  | 'only';

/** One login attempt, as any front door sees it. */
export interface LoginRequest {
  readonly user: string;
  /** The password field as sent: it may carry the code (SCRV1, `2fa-in-password`), or be the answer to a challenge. */
  readonly password: Buffer;
  /** The token of the challenge this request answers, if any. */
  readonly challenge?: Buffer;
  /** Who asks (NAS address, `openvpn:tunnel0`): a challenge is only answered from where it was issued. */
  readonly client: string;
  readonly mode: TwoFactorMode;
  /** `2fa-in-password`: the code may be appended to the password. */
  readonly codeInPassword: boolean;
  /** Where the password is checked. */
  readonly firstFactor: FirstFactorSource;
}

/** What to answer. `reason` goes to the audit log and the statistics. */
export type LoginDecision =
  | { readonly kind: 'accept'; readonly reason: string }
  | { readonly kind: 'reject'; readonly reason: string; readonly message?: string }
  | {
      readonly kind: 'challenge';
      readonly reason: string;
      /** Opaque, single use, bound to the user and the client: echoed back in `LoginRequest.challenge`. */
      readonly token: Buffer;
      /** What to show the user. */
      readonly prompt: string;
    };

// ---- Self-registration (SPEC §8): what the page asks of the appliance ----------------------------

/** Why a registration did not happen. Only the backend decides which one applies. */
export type RegistrationFailure =
  /** Wrong password or unknown user: the page cannot tell them apart, and must not. */
  | 'bad-login'
  /** The per-user lockout (shared with RADIUS logins) is active. Shown like 'bad-login'. */
  | 'locked-out'
  /** The first factor accepted, but the user already has a second factor: refused, no new secret. */
  | 'already-registered'
  /** The first-factor source (RADIUS host, LDAP directory) did not answer in time. */
  | 'first-factor-timeout'
  /** Something else on the appliance failed (the user store, a full disk). */
  | 'unavailable';

/** A new TOTP user, as the page shows it once. */
export interface Registration {
  readonly ok: true;
  /** Base32 secret, without spaces. */
  readonly secret: string;
  /** `otpauth://totp/…`, what the QR code encodes. */
  readonly otpauthUrl: string;
  /** The user's scratch (backup) codes. */
  readonly scratchCodes: readonly string[];
}

export type RegistrationResult = Registration | { readonly ok: false; readonly reason: RegistrationFailure };

/** What the page needs from the appliance. */
export interface RegistrationBackend {
  /**
   * Checks the first factor (and the per-user lockout) and creates a new TOTP user. `client` is the
   * browser's address as the page sees it (IPv4 dotted, or IPv6). Failures must take the same time
   * whether or not the user exists; the page only makes them look the same.
   * A rejection is treated as 'unavailable' (and logged).
   */
  register(user: string, password: string, client: string): Promise<RegistrationResult>;
}
