/** `exec-timeout`: idle remote sessions are closed after this many minutes (0 = never). */
import { EXEC_TIMEOUT_DEFAULT } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import type { Handlers } from '../appliance.ts';

export const handlers = {
  'line.exec-timeout': (ctx) => ctx.app.config.update((c) => void (c.execTimeout = ctx.no ? EXEC_TIMEOUT_DEFAULT : arg.num(ctx, 'minutes'))),
} satisfies Handlers;
