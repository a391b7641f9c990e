/**
 * The built-in RADIUS server (SPEC §4, §6): `radius-server local` → `(config-radsrv)#`. It listens as
 * soon as `server enable` is given and follows every change without a restart.
 */
import { msg } from '../../cli/messages.ts';
import { RADIUS_DEFAULTS } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import type { Ctx, Handlers } from '../appliance.ts';
import { passwordHashArg, secretArg } from '../secrets.ts';
import { formatAccountingStatistics, formatLocalStatistics, formatLocalUsers, formatNas } from './show.ts';

async function applyRadius(ctx: Ctx): Promise<void> {
  const error = await ctx.app.radius.apply();
  if (error) ctx.out.line(msg.radiusCannotListen(error));
}

export const handlers = {
  'radius-local.local': async (ctx) => {
    if (ctx.no) {
      ctx.app.config.update((c) => {
        c.radius.local = { configured: false, enabled: false, authPort: RADIUS_DEFAULTS.authPort, acctPort: undefined, nas: [], users: new Map() };
      });
      await applyRadius(ctx);
      return;
    }
    ctx.app.config.update((c) => void (c.radius.local.configured = true));
    ctx.session.enter('radius-local');
  },
  'radius-local.enable': async (ctx) => {
    ctx.app.config.update((c) => void (c.radius.local.enabled = !ctx.no));
    await applyRadius(ctx);
  },
  'radius-local.port': async (ctx) => {
    const port = ctx.no ? RADIUS_DEFAULTS.authPort : arg.num(ctx, 'port');
    if (port === ctx.app.config.current.radius.local.acctPort) ctx.error(msg.radiusPortsClash(port));
    ctx.app.config.update((c) => void (c.radius.local.authPort = port));
    await applyRadius(ctx);
  },
  'radius-local.acct-port': async (ctx) => {
    const port = ctx.no ? undefined : arg.num(ctx, 'port');
    if (port === ctx.app.config.current.radius.local.authPort) ctx.error(msg.radiusPortsClash(port));
    ctx.app.config.update((c) => void (c.radius.local.acctPort = port));
    await applyRadius(ctx);
  },
  'radius-local.nas': (ctx) => {
    const address = arg.str(ctx, 'address');
    const nas = ctx.app.config.current.radius.local.nas;
    const i = nas.findIndex((n) => n.address === address);
    if (ctx.no && i < 0) ctx.error(msg.radiusNoSuchNas(address));
    const key = ctx.no ? '' : secretArg(ctx, 'key');
    ctx.app.config.update((c) => {
      if (ctx.no) return void c.radius.local.nas.splice(i, 1);
      const entry = {
        address,
        key,
        twofa: ctx.args['only'] ? ('only' as const) : ctx.args['2fa'] ? ('on' as const) : ('off' as const),
        requireMessageAuthenticator: ctx.args['require-message-authenticator'] === true,
      };
      if (i >= 0) c.radius.local.nas[i] = entry;
      else c.radius.local.nas.push(entry);
    });
  },
  'radius-local.user': async (ctx) => {
    const name = arg.str(ctx, 'name');
    if (ctx.no) {
      if (!ctx.app.config.current.radius.local.users.has(name)) ctx.error(msg.noSuchUser(name));
      return ctx.app.config.update((c) => void c.radius.local.users.delete(name));
    }
    const hash = (await passwordHashArg(ctx))!;
    ctx.app.config.update((c) => void c.radius.local.users.set(name, hash));
  },
  'radius-local.show-nas': (ctx) => ctx.out.lines(formatNas(ctx.app.config.current.radius.local.nas)),
  'radius-local.show-users': (ctx) => ctx.out.lines(formatLocalUsers([...ctx.app.config.current.radius.local.users.keys()])),
  'radius-local.show-statistics': (ctx) =>
    ctx.out.lines([
      ...formatLocalStatistics(ctx.app.radius.server.stats, ctx.app.radius.status()),
      ...formatAccountingStatistics(ctx.app.radius.accounting.stats, ctx.app.radius.accountingStatus(), ctx.app.config.current.radius.local.acctPort !== undefined),
    ]),
} satisfies Handlers;
