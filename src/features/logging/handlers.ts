/**
 * `log host` (RFC 5424 syslog of every audit event) and the permanent log in flash. The syslog sender
 * follows the `log host` lines by itself (app.ts subscribes it to config changes).
 */
import { msg } from '../../cli/messages.ts';
import { SYSLOG_PORT } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import type { Handlers } from '../appliance.ts';
import { formatLog } from '../system/show.ts';
import { zoneOf } from '../time/zone.ts';
import { hostText } from './render.ts';
import { formatLogConfig } from './show.ts';

export const handlers = {
  // `log host ADDR [port N]`: repeatable; the default port is kept as "none" so both spellings are one host.
  'logging.host': (ctx) => {
    const address = arg.str(ctx, 'address');
    const given = arg.opt<number>(ctx, 'port');
    const port = given === SYSLOG_PORT ? undefined : given;
    const same = (h: { address: string; port: number | undefined }) => h.address === address && h.port === port;
    const hosts = ctx.app.config.current.logHosts;
    if (ctx.no && !hosts.some(same)) ctx.error(msg.logNoSuchHost(hostText(address, port)));
    if (!ctx.no && hosts.some(same)) return;
    ctx.app.config.update((c) => {
      c.logHosts = ctx.no ? c.logHosts.filter((h) => !same(h)) : [...c.logHosts, { address, port }];
    });
  },
  // The flash log: the files of earlier runs and what this one still has to write, oldest first.
  'logging.show-permanent': async (ctx) => {
    const events = await ctx.app.logs.permanent.read(ctx.args['tail'] ? 10 : undefined);
    ctx.out.lines(formatLog(events, zoneOf(ctx.app.config.current)));
  },
  'logging.show-config': (ctx) =>
    ctx.out.lines(formatLogConfig(ctx.app.config.current.logHosts, ctx.app.logs.syslog.stats(), ctx.app.logs.permanent.stats())),
} satisfies Handlers;
