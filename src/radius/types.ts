/**
 * What the RADIUS engine reads from the running config (selected by features/radius-local/settings.ts);
 * the engine never imports the CLI or the config model (DESIGN: engines read snapshots).
 */

/** A NAS (RADIUS client) of the local server: `nas ADDR key KEY [2fa [only]] [require-message-authenticator]`. */
export interface NasEntry {
  readonly address: string;
  readonly key: string;
  /** off: local users only; on: the OpenVPN 2FA path (SPEC §6); only: the password is the code. */
  readonly twofa: 'off' | 'on' | 'only';
  readonly requireMessageAuthenticator: boolean;
}

/** An upstream RADIUS server for the first factor. */
export interface UpstreamHost {
  readonly address: string;
  readonly authPort: number;
  readonly key: string;
}

/** Where the first factor of a 2FA login is checked. */
export type FirstFactorSource =
  | { readonly kind: 'local' }
  | { readonly kind: 'radius'; readonly hosts: readonly (UpstreamHost | 'local')[] }
  /** `group ldap` or an `aaa group server ldap` name: the directory source the appliance gives Radius. */
  | { readonly kind: 'ldap' };

export interface RadiusSettings {
  readonly local: {
    readonly enabled: boolean;
    readonly authPort: number;
    /** Where Accounting-Requests are answered (RFC 2866); undefined: nowhere. */
    readonly acctPort?: number;
    readonly nas: readonly NasEntry[];
    /** Local users: name → crypt(3) hash. */
    readonly users: ReadonlyMap<string, string>;
  };
  readonly upstream: { readonly timeout: number; readonly retransmit: number; readonly deadtime: number };
  /** `aaa authentication openvpn default group …`: the first factor of `2fa` NAS entries. */
  readonly firstFactor: FirstFactorSource;
  /** `2fa-in-password`: the code may be appended to the password. */
  readonly codeInPassword: boolean;
}
