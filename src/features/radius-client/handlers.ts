/**
 * RADIUS servers for the first factor and server groups (SPEC §4). Changes apply to the next request.
 */
import { msg } from '../../cli/messages.ts';
import { RADIUS_DEFAULTS } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import type { Ctx, Handlers } from '../services.ts';
import { formatRadius, formatRadiusStatistics } from './show.ts';

const portArg = (ctx: Ctx) => arg.opt<number>(ctx, 'port') ?? RADIUS_DEFAULTS.authPort;

export const handlers = {
  'radius-client.host': (ctx) => {
    const address = arg.str(ctx, 'address');
    const authPort = portArg(ctx);
    const same = (h: { address: string; authPort: number }) => h.address === address && h.authPort === authPort;
    if (ctx.no && !ctx.services.config.current.radius.hosts.some(same)) ctx.error(msg.radiusNoSuchHost(address, authPort));
    ctx.services.config.update((c) => {
      const i = c.radius.hosts.findIndex(same);
      if (ctx.no) c.radius.hosts.splice(i, 1);
      else if (i >= 0) c.radius.hosts[i] = { address, authPort, key: arg.str(ctx, 'key') };
      else c.radius.hosts.push({ address, authPort, key: arg.str(ctx, 'key') });
    });
  },
  'radius-client.timeout': (ctx) => ctx.services.config.update((c) => void (c.radius.timeout = ctx.no ? RADIUS_DEFAULTS.timeout : arg.num(ctx, 'seconds'))),
  'radius-client.retransmit': (ctx) =>
    ctx.services.config.update((c) => void (c.radius.retransmit = ctx.no ? RADIUS_DEFAULTS.retransmit : arg.num(ctx, 'count'))),
  'radius-client.deadtime': (ctx) =>
    ctx.services.config.update((c) => void (c.radius.deadtime = ctx.no ? RADIUS_DEFAULTS.deadtime : arg.num(ctx, 'minutes'))),
  'radius-client.group': (ctx) => {
    const name = arg.str(ctx, 'name');
    const groups = ctx.services.config.current.radius.groups;
    if (ctx.no) {
      if (!groups.has(name)) ctx.error(msg.radiusNoSuchGroup(name));
      ctx.services.config.update((c) => void c.radius.groups.delete(name));
      return;
    }
    if (!groups.has(name)) ctx.services.config.update((c) => void c.radius.groups.set(name, []));
    ctx.session.enter('server-group', name);
  },
  'radius-client.group-server': (ctx) => {
    const group = ctx.session.modeContext as string;
    const address = arg.str(ctx, 'address');
    const authPort = portArg(ctx);
    const servers = ctx.services.config.current.radius.groups.get(group) ?? [];
    const i = servers.findIndex((s) => s.address === address && s.authPort === authPort);
    if (ctx.no && i < 0) ctx.error(msg.radiusNoSuchHost(address, authPort));
    ctx.services.config.update((c) => {
      const list = c.radius.groups.get(group) ?? [];
      if (ctx.no) list.splice(i, 1);
      else if (i < 0) list.push({ address, authPort });
      c.radius.groups.set(group, list);
    });
  },
  'radius-client.show': (ctx) => ctx.out.lines(formatRadius(ctx.services.config.current, ctx.services.radius.status())),
  'radius-client.show-statistics': (ctx) => ctx.out.lines(formatRadiusStatistics(ctx.services.radius.upstream())),
  'radius-client.clear': (ctx) => ctx.services.radius.clear(),
} satisfies Handlers;
