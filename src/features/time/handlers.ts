/**
 * `clock timezone` and the NTP client (`ntp server`, `show ntp …`). The client follows the `ntp server`
 * lines by itself (app.ts subscribes it to config changes); handlers only change the config.
 */
import { msg } from '../../cli/messages.ts';
import { NTP_PORT } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import { parseTimezone } from '../../time/timezone.ts';
import type { Handlers } from '../appliance.ts';
import { formatAssociations, formatNtpStatus, peerText } from './show.ts';
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
  // `ntp server ADDR [port N]`: repeatable; the default port is kept as "none" so both spellings are one server.
  'time.ntp-server': (ctx) => {
    const address = arg.str(ctx, 'address');
    const given = arg.opt<number>(ctx, 'port');
    const port = given === NTP_PORT ? undefined : given;
    const same = (s: { address: string; port: number | undefined }) => s.address === address && s.port === port;
    const servers = ctx.app.config.current.ntpServers;
    if (ctx.no && !servers.some(same)) ctx.error(msg.ntpNoSuchServer(peerText(address, port)));
    if (!ctx.no && servers.some(same)) return;
    ctx.app.config.update((c) => {
      c.ntpServers = ctx.no ? c.ntpServers.filter((s) => !same(s)) : [...c.ntpServers, { address, port }];
    });
  },
  'time.show-status': (ctx) => {
    const cfg = ctx.app.config.current;
    ctx.out.lines(formatNtpStatus(ctx.app.ntp.status(), cfg.ntpServers.length, ctx.app.clock.now(), zoneOf(cfg)));
  },
  'time.show-associations': (ctx) => ctx.out.lines(formatAssociations(ctx.app.ntp.associations(), ctx.app.clock.now())),
} satisfies Handlers;
