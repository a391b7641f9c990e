/**
 * One `ldap-server NAME` as the configuration holds it (SPEC §14), its defaults, and which servers a
 * method list (`group ldap` or `group NAME`) asks, in order.
 */
import { isIP } from 'node:net';

/** `secure {starttls|ldaps}`; `none` when the command is absent. */
export type LdapSecurity = 'none' | 'starttls' | 'ldaps';

/**
 * What `(config-ldapserver)#` sets. Optional fields are absent until configured (and again after the
 * `no` form); their defaults are in `LDAP_DEFAULTS`.
 */
export interface LdapServerSettings {
  /** `ldap-server NAME`. */
  readonly name: string;
  /** `host {HOSTNAME|A.B.C.D|X:X::X}`; a server without one is not usable. */
  readonly host?: string;
  /** `port <1-65535>`; default 389, or 636 with `secure ldaps`. */
  readonly port?: number;
  /** `secure {starttls|ldaps}`. */
  readonly secure?: LdapSecurity;
  /** `ca-certificate flash:/FILE`, as PEM text: trusted in addition to the system CAs. */
  readonly caCertificate?: string;
  /** `base-dn DN`; a server without one is not usable. */
  readonly baseDn?: string;
  /** `bind-dn DN password PASSWORD`: who searches. Absent: an anonymous search. */
  readonly bindDn?: string;
  /** The bind password in clear (the config layer unseals `password 8 …`). Never logged. */
  readonly bindPassword?: string;
  /** `login-attribute WORD`. */
  readonly loginAttribute?: string;
  /** `email-attribute WORD`. */
  readonly emailAttribute?: string;
  /** `require-group DN`. */
  readonly requireGroup?: string;
  /** `timeout <1-60>`, seconds. */
  readonly timeoutSeconds?: number;
}

/** SPEC §14 defaults. */
export const LDAP_DEFAULTS = {
  port: 389,
  ldapsPort: 636,
  secure: 'none' as LdapSecurity,
  loginAttribute: 'uid',
  emailAttribute: 'mail',
  timeoutSeconds: 5,
} as const;

/** A server with every default filled in and the fields a search needs present. */
export interface ResolvedLdapServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly secure: LdapSecurity;
  readonly caCertificate?: string;
  readonly baseDn: string;
  readonly bindDn?: string;
  readonly bindPassword?: string;
  readonly loginAttribute: string;
  readonly emailAttribute: string;
  readonly requireGroup?: string;
  readonly timeoutMs: number;
}

/** Fills in the defaults; throws (with a text for `show ldap server`) when the server cannot be used. */
export function resolveServer(s: LdapServerSettings): ResolvedLdapServer {
  if (!s.host) throw new Error('no host configured');
  if (!s.baseDn) throw new Error('no base-dn configured');
  // RFC 4513 §5.1.2: a DN with an empty password is an unauthenticated bind, which some servers
  // answer with success. A bind-dn without its password would search as nobody while looking bound.
  if (s.bindDn && !s.bindPassword) throw new Error('bind-dn has no password');
  const secure = s.secure ?? LDAP_DEFAULTS.secure;
  return {
    name: s.name,
    host: s.host,
    port: s.port ?? (secure === 'ldaps' ? LDAP_DEFAULTS.ldapsPort : LDAP_DEFAULTS.port),
    secure,
    caCertificate: s.caCertificate,
    baseDn: s.baseDn,
    bindDn: s.bindDn,
    bindPassword: s.bindPassword,
    loginAttribute: s.loginAttribute ?? LDAP_DEFAULTS.loginAttribute,
    emailAttribute: s.emailAttribute ?? LDAP_DEFAULTS.emailAttribute,
    requireGroup: s.requireGroup,
    timeoutMs: (s.timeoutSeconds ?? LDAP_DEFAULTS.timeoutSeconds) * 1000,
  };
}

/** `ldap://host:port` or `ldaps://…`; IPv6 addresses in brackets (RFC 4516 §2, RFC 3986 §3.2.2). */
export function serverUrl(s: ResolvedLdapServer): string {
  const host = isIP(s.host) === 6 ? `[${s.host}]` : s.host;
  return `${s.secure === 'ldaps' ? 'ldaps' : 'ldap'}://${host}:${s.port}`;
}

/**
 * The servers a method list asks, in order: `group ldap` (no names) is every configured server in
 * configuration order; `group NAME` is the group's `server` lines in their order, skipping names that
 * have no `ldap-server`.
 */
export function selectServers(all: readonly LdapServerSettings[], names?: readonly string[]): readonly LdapServerSettings[] {
  if (!names) return all;
  return names.flatMap((n) => all.filter((s) => s.name === n));
}
