/**
 * Terminal lines (AW+/IOS): `line con 0` and `line vty FIRST [LAST]` enter `(config-line)#`, where
 * `exec-timeout MINUTES [SECONDS]` sets how long an idle session stays open (0 0 = never). The
 * console line is the local terminal; the virtual terminals are SSH sessions.
 */
import { EXEC_TIMEOUT_DEFAULT } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import type { Handlers } from '../appliance.ts';

/** Which line `(config-line)#` configures. */
type Line = 'con' | 'vty';

export const handlers = {
  'line.con': (ctx) => ctx.session.enter('line', 'con' satisfies Line),
  'line.vty': (ctx) => {
    const first = arg.num(ctx, 'first');
    const last = arg.opt<number>(ctx, 'last') ?? first;
    ctx.app.config.update((c) => Object.assign(c.lines, { vtyFirst: Math.min(first, last), vtyLast: Math.max(first, last) }));
    ctx.session.enter('line', 'vty' satisfies Line);
  },
  // In config mode (the hidden form earlier versions saved) it sets the virtual terminals.
  'line.exec-timeout': (ctx) => {
    const line: Line = ctx.session.mode === 'line' ? (ctx.session.modeContext as Line) : 'vty';
    const seconds = ctx.no ? EXEC_TIMEOUT_DEFAULT : arg.num(ctx, 'minutes') * 60 + (arg.opt<number>(ctx, 'seconds') ?? 0);
    ctx.app.config.update((c) => void (line === 'con' ? (c.lines.conTimeout = seconds) : (c.lines.vtyTimeout = seconds)));
  },
} satisfies Handlers;
