/** `radius-server host/timeout/retransmit/deadtime` and `aaa group server radius` blocks; defaults omitted. */
import { RADIUS_DEFAULTS as D, type RunningConfig } from '../../config/model.ts';
import type { RenderContext } from '../../config/render.ts';
import { cliWord } from '../format.ts';
import { renderSecret } from '../secrets.ts';

const port = (p: number) => (p === D.authPort ? '' : ` auth-port ${p}`);

export function render(cfg: Readonly<RunningConfig>, ctx: RenderContext): string[][] {
  const r = cfg.radius;
  const global = r.hosts.map((h) => `radius-server host ${h.address}${port(h.authPort)} key ${renderSecret(cfg, ctx, h.key)}`);
  if (r.timeout !== D.timeout) global.push(`radius-server timeout ${r.timeout}`);
  if (r.retransmit !== D.retransmit) global.push(`radius-server retransmit ${r.retransmit}`);
  if (r.deadtime !== D.deadtime) global.push(`radius-server deadtime ${r.deadtime}`);
  const groups = [...r.groups].map(([name, servers]) => [`aaa group server radius ${cliWord(name)}`, ...servers.map((s) => ` server ${s.address}${port(s.authPort)}`)]);
  return [global, ...groups];
}
