/**
 * The typed running configuration: plain data, no CLI lines (FRR northbound). Each feature owns its
 * part; defaults live here, next to the field, so renderers can omit them in one place.
 * 2FA users are NOT here: AW+ keeps them outside the configuration (awplus-spec.md §1 [FOUND S3]).
 */

/** A local CLI account (`username NAME privilege N password 8 HASH`, awplus-spec.md §4.7 [FOUND S8]). */
export interface LocalUser {
  readonly name: string;
  readonly privilege: number;
  /** crypt(3) hash ($1$, $5$ or $6$). */
  readonly hash: string;
}

/** Global 2FA settings (SPEC §4; defaults in TWOFA_DEFAULTS). */
export interface TwoFaConfig {
  enabled: boolean;
  rejectUnconfigured: boolean;
  allowReuse: boolean;
  totpWindow: number;
  hotpWindow: number;
  skewAdjust: boolean;
  maxSkew: number;
  issuer: string | undefined;
  /** undefined = the hostname (awplus-spec.md §2.3 [FOUND S2]). */
  label: string | undefined;
  lockoutFailures: number;
  lockoutPeriod: number;
  /** `2fa email-otp`: users without a TOTP/HOTP record but with an address get a code by mail. */
  emailOtp: boolean;
  /** `2fa email-template FILE`: a flash file; undefined = the built-in template. */
  emailTemplate: string | undefined;
  /** `2fa self-registration port`: the self-registration page's TCP port; undefined = no page. */
  registrationPort: number | undefined;
  /** `2fa self-registration certificate … key …`: flash names of the page's certificate; undefined = self-signed. */
  registrationCertificate: { readonly cert: string; readonly key: string } | undefined;
  /**
   * `2fa store postgresql URL [password …]`: the users on a PostgreSQL database shared with other
   * appliances (the URL without its password; the password in clear, shown sealed); undefined = the
   * embedded store. The store in use changes at the next boot.
   */
  store: { readonly url: string; readonly password: string | undefined } | undefined;
}

/** AW+ defaults (awplus-spec.md §2, 2fa-engine.md §1.13); the lockout is ours (SPEC §5). */
export const TWOFA_DEFAULTS: Readonly<TwoFaConfig> = {
  enabled: false,
  rejectUnconfigured: false,
  allowReuse: false,
  totpWindow: 3,
  hotpWindow: 3,
  skewAdjust: false,
  maxSkew: 1500,
  issuer: undefined,
  label: undefined,
  lockoutFailures: 5,
  lockoutPeriod: 300,
  emailOtp: false,
  emailTemplate: undefined,
  registrationPort: undefined,
  registrationCertificate: undefined,
  store: undefined,
};

/** SSH server settings (SPEC §4 SSH; awplus-spec.md §4.8 [FOUND S12]). */
export interface SshConfig {
  enabled: boolean;
  port: number;
  /** Empty: every local user may log in; else only these (`ssh server allow-users NAME`). */
  allowUsers: string[];
}

export const SSH_DEFAULT_PORT = 22;
/** Idle seconds before a session is closed (`exec-timeout`; IOS/AW+ default 10 minutes) [INFERRED]. */
export const EXEC_TIMEOUT_DEFAULT = 600;

/** Terminal lines (`line con 0`, `line vty FIRST LAST`): the idle timeout of console and SSH sessions. */
export interface LinesConfig {
  /** Console idle timeout, seconds; 0 = never. */
  conTimeout: number;
  /** SSH sessions' idle timeout, seconds; 0 = never. */
  vtyTimeout: number;
  /** The vty range as last configured (shown back in the running config). */
  vtyFirst: number;
  vtyLast: number;
}

/** AW+ numbers its virtual terminals 0-32 [INFERRED from AW+ `line vty <0-32>`]. */
export const VTY_LAST = 32;

/** `radius-server host ADDR [auth-port N] key KEY`. */
export interface RadiusHostConfig {
  address: string;
  authPort: number;
  key: string;
}

/** A NAS of the local RADIUS server (`nas ADDR key KEY [2fa [only]] [require-message-authenticator]`). */
export interface NasConfig {
  address: string;
  key: string;
  twofa: 'off' | 'on' | 'only';
  requireMessageAuthenticator: boolean;
}

/** RADIUS client and server settings (SPEC §4 AAA and RADIUS). */
export interface RadiusConfig {
  hosts: RadiusHostConfig[];
  timeout: number;
  retransmit: number;
  deadtime: number;
  /** `aaa group server radius NAME` → its `server ADDR [auth-port N]` entries, in order. */
  groups: Map<string, { address: string; authPort: number }[]>;
  local: {
    /** `radius-server local` was entered (the block is shown even when empty). */
    configured: boolean;
    enabled: boolean;
    authPort: number;
    /** `server acct-port N`: Accounting-Requests answered there; undefined: not answered (AW+'s local server has no accounting). */
    acctPort: number | undefined;
    nas: NasConfig[];
    /** name → crypt(3) hash */
    users: Map<string, string>;
  };
}

/** IOS/AW+-style defaults [INFERRED]: timeout 5 s, 3 retransmits, no deadtime, port 1812 (awplus-spec.md §6.1 [FOUND S7]). */
export const RADIUS_DEFAULTS = { timeout: 5, retransmit: 3, deadtime: 0, authPort: 1812 } as const;

/**
 * `aaa authentication openvpn default group {radius|ldap|NAME} [2fa] [2fa-in-password]`. `group` is
 * `radius`, `ldap`, or the name of an `aaa group server radius` or `aaa group server ldap` group.
 */
export interface AaaConfig {
  openvpn: { group: string; twofa: boolean; inPassword: boolean } | undefined;
  /** `aaa authentication 2fa-registration default group {radius|ldap|NAME}`: the self-registration page's first factor. */
  registration: { group: string } | undefined;
}

/**
 * `ldap-server NAME` (SPEC §14). A field is absent until configured and again after its `no` form;
 * the LDAP engine fills in the defaults (src/ldap/settings.ts LDAP_DEFAULTS).
 */
export interface LdapServerConfig {
  host?: string;
  port?: number;
  secure?: 'starttls' | 'ldaps';
  /** `ca-certificate flash:/FILE`: the file, and its PEM as read and checked when the command ran. */
  caCertificate?: { file: string; pem: string };
  baseDn?: string;
  /** `bind-dn DN password PASSWORD`; the password in clear (shown sealed, like every config secret). */
  bindDn?: { dn: string; password: string };
  loginAttribute?: string;
  emailAttribute?: string;
  requireGroup?: string;
  /** Seconds. */
  timeout?: number;
}

/** LDAP directories for the first factor (SPEC §14). */
export interface LdapConfig {
  /** Insertion-ordered: `group ldap` asks them in this order. */
  servers: Map<string, LdapServerConfig>;
  /** `aaa group server ldap NAME` → its `server NAME` entries, in order. */
  groups: Map<string, string[]>;
}

/** Mail sending (AW+ manual 電子メールを使用する場合: mail from, mail smtpserver …). */
export interface MailConfig {
  from: string | undefined;
  host: string | undefined;
  port: number;
  /** off; tls = implicit TLS from the first byte; starttls = upgrade after EHLO. */
  tls: 'off' | 'tls' | 'starttls';
  /** AUTH PLAIN credentials; the password is kept in clear in memory (SMTP needs it). */
  auth: { user: string; password: string } | undefined;
}

export const MAIL_DEFAULT_PORT = 25;

/**
 * `interface tunnelN` with `tunnel mode openvpn {tun|tap}`: an OpenVPN server the appliance runs.
 * The command names are this emulator's where AW+ evidence is missing (README, "A VPN server in one
 * config"). A tunnel without a mode is configured but not an OpenVPN server.
 */
export interface TunnelConfig {
  /** `tunnel0` … `tunnel99999`. */
  readonly name: string;
  mode: 'tun' | 'tap' | undefined;
  port: number;
  protocol: 'udp' | 'tcp';
  /** `ip address A.B.C.D/M`: the server's address; clients get the other addresses of the subnet. */
  address: string | undefined;
  /** `tunnel openvpn push route A.B.C.D/M`, in the order entered. */
  routes: string[];
  shutdown: boolean;
  /** `tunnel openvpn remote HOST`: the address client profiles name; undefined = the hostname. */
  remote: string | undefined;
}

/** OpenVPN's own defaults (openvpn(8) --port 1194, --proto udp). */
export const TUNNEL_DEFAULTS = { port: 1194, protocol: 'udp' } as const;

/**
 * `clock timezone NAME {plus|minus} HH[:MM]`: a fixed offset from UTC for display only; the clock and
 * every OTP computation stay UTC. `offsetMinutes` is east of UTC.
 */
export interface TimezoneConfig {
  readonly name: string;
  readonly offsetMinutes: number;
}

/** A UDP peer with an optional port: `ntp server ADDR [port N]`, `log host ADDR [port N]`. */
export interface UdpPeerConfig {
  /** An IPv4 address or a canonical IPv6 address. */
  readonly address: string;
  /** undefined = the protocol's port (NTP 123, syslog 514). */
  readonly port: number | undefined;
}

/** NTP's and syslog's ports (RFC 5905 §7.2, RFC 5426 §3.3). */
export const NTP_PORT = 123;
export const SYSLOG_PORT = 514;

/** The whole running configuration. */
export interface RunningConfig {
  hostname: string;
  /** Insertion-ordered, as AW+ lists them. */
  users: Map<string, LocalUser>;
  /** `enable password 8 HASH`; undefined = none set. */
  enablePassword: string | undefined;
  twofa: TwoFaConfig;
  ssh: SshConfig;
  lines: LinesConfig;
  radius: RadiusConfig;
  aaa: AaaConfig;
  ldap: LdapConfig;
  mail: MailConfig;
  /** `interface tunnelN`, by name. */
  interfaces: Map<string, TunnelConfig>;
  /** `service password-encryption`: secrets that must stay usable are shown sealed (`8 …`). */
  passwordEncryption: boolean;
  /** `clock timezone`; undefined = UTC. */
  timezone: TimezoneConfig | undefined;
  /** `ntp server` lines, in the order entered (the first usable one steers the clock). */
  ntpServers: UdpPeerConfig[];
  /** `log host` lines, in the order entered. */
  logHosts: UdpPeerConfig[];
}

/** Default hostname (awplus-spec.md §4.1 [FOUND S14]). */
export const DEFAULT_HOSTNAME = 'awplus';

/** Factory account (awplus-spec.md §4.7 [INFERRED, well-known AW+ default]). */
export const FACTORY_USER = { name: 'manager', password: 'friend', privilege: 15 } as const;

/** Factory-default configuration; `hashPassword` is injected so tests and boot share one hasher. */
export function factoryConfig(hashPassword: (plain: string) => string): RunningConfig {
  return {
    hostname: DEFAULT_HOSTNAME,
    users: new Map([[FACTORY_USER.name, { name: FACTORY_USER.name, privilege: FACTORY_USER.privilege, hash: hashPassword(FACTORY_USER.password) }]]),
    enablePassword: undefined,
    twofa: { ...TWOFA_DEFAULTS },
    ssh: { enabled: false, port: SSH_DEFAULT_PORT, allowUsers: [] },
    lines: { conTimeout: EXEC_TIMEOUT_DEFAULT, vtyTimeout: EXEC_TIMEOUT_DEFAULT, vtyFirst: 0, vtyLast: VTY_LAST },
    radius: {
      hosts: [],
      timeout: RADIUS_DEFAULTS.timeout,
      retransmit: RADIUS_DEFAULTS.retransmit,
      deadtime: RADIUS_DEFAULTS.deadtime,
      groups: new Map(),
      local: { configured: false, enabled: false, authPort: RADIUS_DEFAULTS.authPort, acctPort: undefined, nas: [], users: new Map() },
    },
    aaa: { openvpn: undefined, registration: undefined },
    ldap: { servers: new Map(), groups: new Map() },
    mail: { from: undefined, host: undefined, port: MAIL_DEFAULT_PORT, tls: 'off', auth: undefined },
    interfaces: new Map(),
    passwordEncryption: true,
    timezone: undefined,
    ntpServers: [],
    logHosts: [],
  };
}
