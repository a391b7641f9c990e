/** `show ldap server [NAME]` (layout [OURS], AW+-style `name : value` blocks); the bind password is never shown. */
import type { RunningConfig } from '../../config/model.ts';
import { LDAP_DEFAULTS as D, resolveServer, serverUrl } from '../../ldap/settings.ts';
import type { LdapServerCounters, LdapStatisticsView } from '../../ldap/statistics.ts';
import { displayTime } from '../../time/timezone.ts';
import { fields } from '../format.ts';
import { zoneOf } from '../time/zone.ts';
import { ldapServers } from './settings.ts';

function state(c: LdapServerCounters, unusable: string | undefined): string {
  if (unusable) return `not usable (${unusable})`;
  return c.state === 'up' ? 'up (answered the last login)' : c.state === 'down' ? 'down (no usable answer to the last login)' : 'unknown (not asked yet)';
}

export function formatLdapServers(cfg: Readonly<RunningConfig>, stats: LdapStatisticsView, only: string | undefined, now: number): string[] {
  const servers = ldapServers(cfg).filter((s) => only === undefined || s.name === only);
  if (servers.length === 0) return ['(no LDAP servers configured)'];
  const out: string[] = [];
  for (const s of servers) {
    let unusable: string | undefined;
    let url = '-';
    try {
      url = serverUrl(resolveServer(s));
    } catch (e) {
      unusable = (e as Error).message;
    }
    const raw = cfg.ldap.servers.get(s.name)!;
    const groups = [...cfg.ldap.groups].filter(([, members]) => members.includes(s.name)).map(([g]) => g);
    const c = stats.of(s.name);
    const ago = c.lastErrorAt === undefined ? '' : ` (${displayTime(c.lastErrorAt, zoneOf(cfg))}, ${Math.max(0, Math.round((now - c.lastErrorAt) / 1000))} s ago)`;
    if (out.length) out.push('');
    out.push(
      `LDAP server ${s.name}`,
      ...fields(
        [
          ['URL', url],
          ['Secure', s.secure ?? 'none'],
          ['CA certificate', raw.caCertificate ? `flash:/${raw.caCertificate.file}` : 'system CAs only'],
          ['Base DN', s.baseDn ?? '-'],
          ['Bind DN', s.bindDn ?? 'anonymous search'],
          ['Login attribute', s.loginAttribute ?? D.loginAttribute],
          ['E-mail attribute', s.emailAttribute ?? D.emailAttribute],
          ['Require group', s.requireGroup ?? '-'],
          ['Timeout', `${s.timeoutSeconds ?? D.timeoutSeconds} seconds`],
          ['Groups', groups.join(', ') || '-'],
          ['State', state(c, unusable)],
          ['Last error', c.lastError === undefined ? '-' : `${c.lastError}${ago}`],
          ['Requests', String(c.requests)],
          ['Accepts', String(c.accepts)],
          ['Rejects', String(c.rejects)],
          ['Timeouts', String(c.timeouts)],
          ['Errors', String(c.errors)],
        ],
        '  ',
      ),
    );
  }
  return out;
}
