/**
 * RADIUS servers for the first factor and server groups (SPEC §4). Changes apply to the next request.
 */
import { msg } from '../../cli/messages.ts';
import { RADIUS_DEFAULTS } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import type { Ctx, Handlers } from '../appliance.ts';
import { secretArg } from '../secrets.ts';
import { formatRadius, formatRadiusStatistics } from './show.ts';

const portArg = (ctx: Ctx) => arg.opt<number>(ctx, 'port') ?? RADIUS_DEFAULTS.authPort;

export const handlers = {
  'radius-hosts.host': (ctx) => {
    const address = arg.str(ctx, 'address');
    const authPort = portArg(ctx);
    const same = (h: { address: string; authPort: number }) => h.address === address && h.authPort === authPort;
    if (ctx.no && !ctx.app.config.current.radius.hosts.some(same)) ctx.error(msg.radiusNoSuchHost(address, authPort));
    const key = ctx.no ? '' : secretArg(ctx, 'key');
    ctx.app.config.update((c) => {
      const i = c.radius.hosts.findIndex(same);
      if (ctx.no) c.radius.hosts.splice(i, 1);
      else if (i >= 0) c.radius.hosts[i] = { address, authPort, key };
      else c.radius.hosts.push({ address, authPort, key });
    });
  },
  'radius-hosts.timeout': (ctx) => ctx.app.config.update((c) => void (c.radius.timeout = ctx.no ? RADIUS_DEFAULTS.timeout : arg.num(ctx, 'seconds'))),
  'radius-hosts.retransmit': (ctx) =>
    ctx.app.config.update((c) => void (c.radius.retransmit = ctx.no ? RADIUS_DEFAULTS.retransmit : arg.num(ctx, 'count'))),
  'radius-hosts.deadtime': (ctx) =>
    ctx.app.config.update((c) => void (c.radius.deadtime = ctx.no ? RADIUS_DEFAULTS.deadtime : arg.num(ctx, 'minutes'))),
  'radius-hosts.group': (ctx) => {
    const name = arg.str(ctx, 'name');
    const groups = ctx.app.config.current.radius.groups;
    if (ctx.no) {
      if (!groups.has(name)) ctx.error(msg.radiusNoSuchGroup(name));
      ctx.app.config.update((c) => void c.radius.groups.delete(name));
      return;
    }
    if (ctx.app.config.current.ldap.groups.has(name)) ctx.error(msg.radiusGroupNameTaken(name));
    if (!groups.has(name)) ctx.app.config.update((c) => void c.radius.groups.set(name, []));
    ctx.session.enter('server-group', name);
  },
  'radius-hosts.group-server': (ctx) => {
    const group = ctx.session.modeContext as string;
    const address = arg.str(ctx, 'address');
    const authPort = portArg(ctx);
    const servers = ctx.app.config.current.radius.groups.get(group) ?? [];
    const i = servers.findIndex((s) => s.address === address && s.authPort === authPort);
    if (ctx.no && i < 0) ctx.error(msg.radiusNoSuchHost(address, authPort));
    ctx.app.config.update((c) => {
      const list = c.radius.groups.get(group) ?? [];
      if (ctx.no) list.splice(i, 1);
      else if (i < 0) list.push({ address, authPort });
      c.radius.groups.set(group, list);
    });
  },
  'radius-hosts.show': (ctx) => ctx.out.lines(formatRadius(ctx.app.config.current, ctx.app.radius.status())),
  'radius-hosts.show-statistics': (ctx) => ctx.out.lines(formatRadiusStatistics(ctx.app.radius.upstream.counters)),
  'radius-hosts.clear': (ctx) => ctx.app.radius.clearStatistics(),
} satisfies Handlers;
