/**
 * Every feature's handlers, merged into one table, and the running-config section order
 * (awplus-spec.md §4.6 [FOUND S12]: hostname, usernames, services, aaa, … ).
 */
import type { RunningConfig } from '../config/model.ts';
import { assemble, type Section } from '../config/render.ts';
import { handlers as twofa } from './2fa/handlers.ts';
import { render as renderTwofa } from './2fa/render.ts';
import { handlers as aaa } from './aaa/handlers.ts';
import { render as renderAaa } from './aaa/render.ts';
import type { Handlers } from './appliance.ts';
import { handlers as base } from './base/handlers.ts';
import { handlers as files } from './files/handlers.ts';
import { handlers as ldap } from './ldap/handlers.ts';
import { render as renderLdap } from './ldap/render.ts';
import { handlers as line } from './line/handlers.ts';
import { handlers as logging } from './logging/handlers.ts';
import { render as renderLogging } from './logging/render.ts';
import { render as renderLine } from './line/render.ts';
import { handlers as mail } from './mail/handlers.ts';
import { renderMail } from './mail/render.ts';
import { handlers as openvpn } from './openvpn/handlers.ts';
import { render as renderOpenvpn } from './openvpn/render.ts';
import { handlers as radiusHosts } from './radius-hosts/handlers.ts';
import { render as renderRadiusHosts } from './radius-hosts/render.ts';
import { handlers as radiusLocal } from './radius-local/handlers.ts';
import { render as renderRadiusLocal } from './radius-local/render.ts';
import { handlers as selfRegistration } from './self-registration/handlers.ts';
import { handlers as ssh } from './ssh/handlers.ts';
import { render as renderSsh } from './ssh/render.ts';
import { handlers as system } from './system/handlers.ts';
import { render as renderSystem, renderPasswordEncryption } from './system/render.ts';
import { handlers as time } from './time/handlers.ts';
import { renderNtp, renderTimezone } from './time/render.ts';
import { handlers as users } from './users/handlers.ts';
import { render as renderUsers } from './users/render.ts';

export const handlers: Handlers = { ...base, ...system, ...users, ...files, ...twofa, ...ssh, ...line, ...radiusHosts, ...radiusLocal, ...ldap, ...aaa, ...mail, ...openvpn, ...selfRegistration, ...time, ...logging };

/** Running-config sections in the order AW+ prints them. */
export const sections: readonly Section<RunningConfig>[] = [
  { name: 'password-encryption', render: renderPasswordEncryption },
  { name: 'system', render: renderSystem },
  { name: 'logging', render: renderLogging },
  { name: 'users', render: renderUsers },
  { name: 'ssh', render: renderSsh },
  { name: 'line', render: renderLine },
  { name: 'timezone', render: renderTimezone },
  { name: '2fa', render: renderTwofa },
  { name: 'radius', render: (cfg, ctx) => [...renderRadiusHosts(cfg, ctx), ...renderRadiusLocal(cfg, ctx)] },
  // Before aaa: `aaa authentication … group NAME` needs the group to exist when the config boots.
  { name: 'ldap', render: renderLdap },
  { name: 'aaa', render: renderAaa },
  { name: 'mail', render: renderMail },
  { name: 'interface', render: renderOpenvpn },
  { name: 'ntp', render: renderNtp },
];

/** The running-config text (SPEC §3), or one named section of it; `seal` makes the `8 …` forms. */
export function renderRunning(cfg: Readonly<RunningConfig>, seal: (text: string) => string, section?: string): string {
  return assemble(cfg, section === undefined ? sections : sections.filter((s) => s.name === section), { seal });
}
