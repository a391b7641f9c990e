/**
 * Session commands: enable/disable, configure, exit/end, do, terminal length, show history/users.
 */
import { msg } from '../../cli/messages.ts';
import { arg } from '../../session/context.ts';
import type { Handlers } from '../appliance.ts';
import { formatHistory, formatUsers } from './show.ts';

export const handlers = {
  // Privilege-15 users are exempt from the enable password (awplus-spec.md §4.1 [FOUND S8]).
  'base.enable': async (ctx) => {
    if (ctx.session.privilege >= 15) return;
    if (ctx.session.userPrivilege >= 15) {
      ctx.session.privilege = 15;
      return;
    }
    const hash = ctx.app.config.current.enablePassword;
    if (!hash) return ctx.error(msg.noEnablePassword);
    const answer = await ctx.session.ask(msg.passwordPrompt, { secret: true });
    const ok = answer === null ? false : await ctx.app.checkPassword(answer, hash).catch(() => 'not-checked' as const);
    if (ok !== true) {
      ctx.app.log.info('enable-failed', { user: ctx.session.user, session: ctx.session.id, ...(ok === 'not-checked' ? { reason: ok } : {}) });
      ctx.error(ok === 'not-checked' ? msg.passwordNotChecked : msg.badEnablePassword);
    }
    ctx.session.privilege = 15;
  },
  'base.disable': (ctx) => {
    ctx.session.privilege = 1;
  },
  'base.configure': (ctx) => {
    ctx.out.line(msg.configBanner);
    ctx.session.enter('config');
  },
  'base.exit': (ctx) => ctx.session.exit(),
  'base.end': (ctx) => ctx.session.end(),
  'base.do': (ctx) => ctx.session.runExec(arg.str(ctx, 'command')),
  'base.terminal-length': (ctx) => {
    ctx.session.terminalLength = arg.num(ctx, 'lines');
  },
  'base.show-history': (ctx) => ctx.out.lines(formatHistory(ctx.session.history)),
  'base.show-users': (ctx) => ctx.out.lines(formatUsers(ctx.app.sessions(), ctx.session.id, ctx.app.clock.now())),
} satisfies Handlers;
