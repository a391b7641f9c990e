/** The `radius-server local` block; sub-mode lines indented by one space (awplus-spec.md §4.6). */
import { RADIUS_DEFAULTS, type RunningConfig } from '../../config/model.ts';
import type { RenderContext } from '../../config/render.ts';
import { renderSecret } from '../secrets.ts';

export function render(cfg: Readonly<RunningConfig>, ctx: RenderContext): string[][] {
  const l = cfg.radius.local;
  if (!l.configured) return [];
  const lines = ['radius-server local'];
  if (l.authPort !== RADIUS_DEFAULTS.authPort) lines.push(` server auth-port ${l.authPort}`);
  if (l.acctPort !== undefined) lines.push(` server acct-port ${l.acctPort}`);
  for (const n of l.nas) {
    const twofa = n.twofa === 'only' ? ' 2fa only' : n.twofa === 'on' ? ' 2fa' : '';
    lines.push(` nas ${n.address} key ${renderSecret(cfg, ctx, n.key)}${twofa}${n.requireMessageAuthenticator ? ' require-message-authenticator' : ''}`);
  }
  for (const [name, hash] of l.users) lines.push(` user ${name} password 8 ${hash}`);
  // Last, so that booting the block configures everything before the server starts answering.
  if (l.enabled) lines.push(' server enable');
  return [lines];
}
