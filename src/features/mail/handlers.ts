/**
 * Mail sending settings (AW+ manual 電子メールを使用する場合).
 */
import { MAIL_DEFAULT_PORT } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import type { Handlers } from '../appliance.ts';
import { secretArg } from '../secrets.ts';
import { formatMail } from './show.ts';

export const handlers = {
  'mail.from': (ctx) => ctx.app.config.update((c) => void (c.mail.from = ctx.no ? undefined : arg.str(ctx, 'address'))),
  'mail.server': (ctx) =>
    ctx.app.config.update((c) => {
      c.mail.host = ctx.no ? undefined : arg.str(ctx, 'host');
      c.mail.port = ctx.no ? MAIL_DEFAULT_PORT : (arg.opt<number>(ctx, 'port') ?? MAIL_DEFAULT_PORT);
    }),
  'mail.tls': (ctx) => ctx.app.config.update((c) => void (c.mail.tls = ctx.no ? 'off' : ctx.args['starttls'] ? 'starttls' : 'tls')),
  'mail.auth': (ctx) => {
    if (ctx.no) return ctx.app.config.update((c) => void (c.mail.auth = undefined));
    const password = secretArg(ctx, 'password');
    ctx.app.config.update((c) => void (c.mail.auth = { user: arg.str(ctx, 'user'), password }));
  },
  'mail.show': (ctx) => ctx.out.lines(formatMail(ctx.app.config.current.mail, ctx.app.twofa.email?.counters)),
} satisfies Handlers;
