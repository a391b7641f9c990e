/**
 * The RADIUS engine's view of the running config (VyOS get_config): the first-factor source of
 * `aaa authentication openvpn` (and of `aaa authentication 2fa-registration`) resolved to hosts with
 * their keys; a host that is this appliance's own local server becomes 'local' (no UDP round trip to
 * ourselves, SPEC §6).
 */
import type { RadiusHostConfig, RunningConfig } from '../../config/model.ts';
import type { FirstFactorSource, RadiusSettings, UpstreamHost } from '../../radius/types.ts';
import { namesLdap } from '../ldap/settings.ts';

function isSelf(cfg: Readonly<RunningConfig>, address: string, port: number): boolean {
  const l = cfg.radius.local;
  return l.enabled && port === l.authPort && (address.startsWith('127.') || address === '0.0.0.0');
}

/** The hosts of a method list's `group radius|NAME`; LDAP when it names LDAP; without a method list, the local users. */
function firstFactor(cfg: Readonly<RunningConfig>, group: string | undefined): FirstFactorSource {
  if (group === undefined) return { kind: 'local' };
  if (namesLdap(cfg, group)) return { kind: 'ldap' };
  let members: { address: string; authPort: number }[];
  if (group === 'radius') members = cfg.radius.hosts;
  else members = cfg.radius.groups.get(group) ?? [];
  const hosts: (UpstreamHost | 'local')[] = [];
  for (const m of members) {
    if (isSelf(cfg, m.address, m.authPort)) hosts.push('local');
    else {
      // Group members take their key from the matching `radius-server host` (IOS/AW+ server groups).
      const host: RadiusHostConfig | undefined = cfg.radius.hosts.find((h) => h.address === m.address && h.authPort === m.authPort);
      if (host) hosts.push({ address: host.address, authPort: host.authPort, key: host.key });
    }
  }
  return { kind: 'radius', hosts };
}

export function radiusSettings(cfg: Readonly<RunningConfig>): RadiusSettings {
  const r = cfg.radius;
  return {
    local: { enabled: r.local.enabled, authPort: r.local.authPort, acctPort: r.local.acctPort, nas: r.local.nas, users: r.local.users },
    upstream: { timeout: r.timeout, retransmit: r.retransmit, deadtime: r.deadtime },
    firstFactor: firstFactor(cfg, cfg.aaa.openvpn?.group),
    codeInPassword: cfg.aaa.openvpn?.inPassword ?? false,
  };
}

/**
 * The same, with the first factor of the self-registration page: `aaa authentication 2fa-registration`
 * (SPEC §8: `radius` with the local server as a host means the local users); without it the local
 * users, as for OpenVPN logins without `aaa authentication openvpn`.
 */
export function registrationRadiusSettings(cfg: Readonly<RunningConfig>): RadiusSettings {
  return { ...radiusSettings(cfg), firstFactor: firstFactor(cfg, cfg.aaa.registration?.group) };
}
