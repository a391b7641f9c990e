/**
 * The LDAP engine's view of the running config (VyOS get_config): each `ldap-server` as the engine
 * wants it, and which servers a method list's `group ldap` or `group NAME` asks, in order.
 */
import type { LdapServerConfig, RunningConfig } from '../../config/model.ts';
import { selectServers, type LdapServerSettings } from '../../ldap/settings.ts';

function serverSettings(name: string, s: LdapServerConfig): LdapServerSettings {
  return {
    name,
    host: s.host,
    port: s.port,
    secure: s.secure,
    caCertificate: s.caCertificate?.pem,
    baseDn: s.baseDn,
    bindDn: s.bindDn?.dn,
    bindPassword: s.bindDn?.password,
    loginAttribute: s.loginAttribute,
    emailAttribute: s.emailAttribute,
    requireGroup: s.requireGroup,
    timeoutSeconds: s.timeout,
  };
}

/** Every configured server, in configuration order. */
export function ldapServers(cfg: Readonly<RunningConfig>): LdapServerSettings[] {
  return [...cfg.ldap.servers].map(([name, s]) => serverSettings(name, s));
}

/** Whether a method list's `group X` is a directory: `group ldap`, or an `aaa group server ldap` name. */
export function namesLdap(cfg: Readonly<RunningConfig>, group: string): boolean {
  return group === 'ldap' || cfg.ldap.groups.has(group);
}

/**
 * The servers `group X` asks: every server for `ldap` (SPEC §14), the group's members in their order
 * for a group name (members without an `ldap-server` are skipped), none for anything else.
 */
export function ldapServersFor(cfg: Readonly<RunningConfig>, group: string): readonly LdapServerSettings[] {
  if (!namesLdap(cfg, group)) return [];
  return selectServers(ldapServers(cfg), group === 'ldap' ? undefined : cfg.ldap.groups.get(group));
}

/** The directory servers of `aaa authentication openvpn` (none when its group is RADIUS, or unset). */
export function openvpnLdapServers(cfg: Readonly<RunningConfig>): readonly LdapServerSettings[] {
  const group = cfg.aaa.openvpn?.group;
  return group === undefined ? [] : ldapServersFor(cfg, group);
}

/** The directory servers of `aaa authentication 2fa-registration` (none when its group is RADIUS, or unset). */
export function registrationLdapServers(cfg: Readonly<RunningConfig>): readonly LdapServerSettings[] {
  const group = cfg.aaa.registration?.group;
  return group === undefined ? [] : ldapServersFor(cfg, group);
}
