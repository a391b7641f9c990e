/**
 * `log host` (RFC 5424 syslog of every audit event) and the permanent log in flash. The syslog sender
 * follows the `log host` lines by itself (app.ts subscribes it to config changes).
 */
import { msg } from '../../cli/messages.ts';
import { SYSLOG_PORT } from '../../config/model.ts';
import type { Handlers } from '../appliance.ts';
import { formatLog } from '../system/show.ts';
import { zoneOf } from '../time/zone.ts';
import { editUdpPeers } from '../udp-peers.ts';
import { formatLogConfig } from './show.ts';

export const handlers = {
  // `log host ADDR [port N]`: repeatable (udp-peers.ts).
  'logging.host': (ctx) => editUdpPeers(ctx, 'logHosts', SYSLOG_PORT, msg.logNoSuchHost),
  // The flash log: the files of earlier runs and what this one still has to write, oldest first.
  'logging.show-permanent': async (ctx) => {
    const events = await ctx.app.logs.permanent.read(ctx.args['tail'] ? 10 : undefined);
    ctx.out.lines(formatLog(events, zoneOf(ctx.app.config.current)));
  },
  'logging.show-config': (ctx) =>
    ctx.out.lines(formatLogConfig(ctx.app.config.current.logHosts, ctx.app.logs.syslog.stats(), ctx.app.logs.permanent.stats())),
} satisfies Handlers;
