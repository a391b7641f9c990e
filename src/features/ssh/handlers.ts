/**
 * SSH server settings (issue #5). Changes apply at once: the listener follows the config; sessions
 * already open are not touched.
 */
import { msg } from '../../cli/messages.ts';
import { SSH_DEFAULT_PORT } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import type { Ctx, Handlers } from '../appliance.ts';
import { formatSshServer } from './show.ts';

/** Re-binds the listener and says so when the port cannot be had (the setting itself stays). */
async function applySsh(ctx: Ctx): Promise<void> {
  const error = await ctx.app.ssh.apply();
  if (error) ctx.out.line(msg.sshCannotListen(error));
}

export const handlers = {
  'ssh.service': async (ctx) => {
    ctx.app.config.update((c) => void (c.ssh.enabled = !ctx.no));
    await applySsh(ctx);
  },
  'ssh.port': async (ctx) => {
    ctx.app.config.update((c) => void (c.ssh.port = ctx.no ? SSH_DEFAULT_PORT : arg.num(ctx, 'port')));
    await applySsh(ctx);
  },
  'ssh.allow-users': (ctx) => {
    const name = arg.str(ctx, 'name');
    const list = ctx.app.config.current.ssh.allowUsers;
    if (ctx.no && !list.includes(name)) ctx.error(msg.sshNotAllowed(name));
    ctx.app.config.update((c) => {
      c.ssh.allowUsers = ctx.no ? list.filter((n) => n !== name) : list.includes(name) ? list : [...list, name];
    });
  },
  'ssh.show': (ctx) => ctx.out.lines(formatSshServer(ctx.app.config.current, ctx.app.ssh.status())),
} satisfies Handlers;
