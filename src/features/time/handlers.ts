/**
 * `clock timezone` and the NTP client (`ntp server`, `show ntp …`). The client follows the `ntp server`
 * lines by itself (app.ts subscribes it to config changes); handlers only change the config.
 */
import { msg } from '../../cli/messages.ts';
import { NTP_PORT } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import { parseTimezone } from '../../time/timezone.ts';
import type { Handlers } from '../appliance.ts';
import { editUdpPeers } from '../udp-peers.ts';
import { formatAssociations, formatNtpStatus } from './show.ts';
import { zoneOf } from './zone.ts';

export const handlers = {
  // AW+: `clock timezone <timezone-name> {plus|minus} <0-13>|<0-12>:<00-59>`; display only (OTPs stay UTC).
  'time.timezone': (ctx) => {
    if (ctx.no) {
      ctx.app.config.update((c) => void (c.timezone = undefined));
      return;
    }
    const r = parseTimezone(arg.str(ctx, 'name'), ctx.args['plus'] ? 'plus' : 'minus', arg.str(ctx, 'offset'));
    if ('error' in r) return ctx.error(msg.timezoneInvalid(r.error));
    ctx.app.config.update((c) => void (c.timezone = r.zone));
  },
  // `ntp server ADDR [port N]`: repeatable (udp-peers.ts).
  'time.ntp-server': (ctx) => editUdpPeers(ctx, 'ntpServers', NTP_PORT, msg.ntpNoSuchServer),
  'time.show-status': (ctx) => {
    const cfg = ctx.app.config.current;
    ctx.out.lines(formatNtpStatus(ctx.app.ntp.status(), cfg.ntpServers.length, ctx.app.clock.now(), zoneOf(cfg)));
  },
  'time.show-associations': (ctx) => ctx.out.lines(formatAssociations(ctx.app.ntp.associations(), ctx.app.clock.now())),
} satisfies Handlers;
