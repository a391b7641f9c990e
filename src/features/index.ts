/**
 * Every feature's handlers, merged into one table, and the running-config section order
 * (awplus-spec.md §4.6 [FOUND S12]: hostname, usernames, services, aaa, … ).
 */
import type { RunningConfig } from '../config/model.ts';
import type { Section } from '../config/render.ts';
import { handlers as twofa } from './2fa/handlers.ts';
import { render as renderTwofa } from './2fa/render.ts';
import { handlers as aaa } from './aaa/handlers.ts';
import { render as renderAaa } from './aaa/render.ts';
import { handlers as base } from './base/handlers.ts';
import { handlers as mail } from './mail/handlers.ts';
import { renderMail, renderPasswordEncryption } from './mail/render.ts';
import { handlers as radiusClient } from './radius-client/handlers.ts';
import { render as renderRadiusClient } from './radius-client/render.ts';
import { handlers as radiusServer } from './radius-server/handlers.ts';
import { render as renderRadiusServer } from './radius-server/render.ts';
import { handlers as files } from './files/handlers.ts';
import type { Handlers } from './services.ts';
import { handlers as ssh } from './ssh/handlers.ts';
import { render as renderSsh } from './ssh/render.ts';
import { handlers as system } from './system/handlers.ts';
import { render as renderSystem } from './system/render.ts';
import { handlers as users } from './users/handlers.ts';
import { render as renderUsers } from './users/render.ts';

export const handlers: Handlers = { ...base, ...system, ...users, ...files, ...twofa, ...ssh, ...radiusClient, ...radiusServer, ...aaa, ...mail };

/** Running-config sections in the order AW+ prints them. */
export const sections: readonly Section<RunningConfig>[] = [
  { name: 'password-encryption', render: renderPasswordEncryption },
  { name: 'system', render: renderSystem },
  { name: 'users', render: renderUsers },
  { name: 'ssh', render: renderSsh },
  { name: '2fa', render: renderTwofa },
  { name: 'radius', render: (cfg) => [...renderRadiusClient(cfg), ...renderRadiusServer(cfg)] },
  { name: 'aaa', render: renderAaa },
  { name: 'mail', render: (cfg, ctx) => renderMail(cfg, (text) => ctx.seal(text)) },
];
