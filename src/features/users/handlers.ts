/**
 * Local accounts and the enable password (awplus-spec.md §4.7 [FOUND S8]): passwords are stored as
 * crypt(3) hashes; `8 HASH` takes a hash as it appears in a running config.
 */
import { msg } from '../../cli/messages.ts';
import type { RunningConfig } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import type { Handlers } from '../appliance.ts';
import { passwordHashArg } from '../secrets.ts';

/** Names AW+ keeps for itself (awplus-spec.md §4.7 [FOUND S8]). */
const RESERVED = new Set(['root', 'daemon', 'nobody', 'sshd', 'httpd']);

/** Whether the change would leave no privilege-15 account to administer the appliance. */
function leavesNoAdmin(cfg: Readonly<RunningConfig>, name: string, newPrivilege: number | undefined): boolean {
  return ![...cfg.users.values()].some((u) => (u.name === name ? (newPrivilege ?? 0) >= 15 : u.privilege >= 15));
}

export const handlers = {
  'users.username': async (ctx) => {
    const name = arg.str(ctx, 'name');
    if (ctx.no) {
      const cfg = ctx.app.config.current;
      if (!cfg.users.has(name)) ctx.error(msg.noSuchUser(name));
      if (leavesNoAdmin(cfg, name, undefined)) ctx.error(msg.lastAdmin);
      ctx.app.config.update((c) => void c.users.delete(name));
      return;
    }
    if (RESERVED.has(name)) ctx.error(msg.reservedUser(name));
    const given = await passwordHashArg(ctx);
    // Read after the hash: another session may have changed the accounts meanwhile.
    const cfg = ctx.app.config.current;
    const existing = cfg.users.get(name);
    const hash = given ?? existing?.hash;
    if (!hash) return ctx.error(msg.passwordRequired);
    // privilege defaults to 1 for a new user and stays as it was when omitted (awplus-spec.md §4.7).
    const privilege = arg.opt<number>(ctx, 'level') ?? existing?.privilege ?? 1;
    if (existing && leavesNoAdmin(cfg, name, privilege)) ctx.error(msg.lastAdmin);
    ctx.app.config.update((c) => void c.users.set(name, { name, privilege, hash }));
  },
  'users.enable-password': async (ctx) => {
    const hash = ctx.no ? undefined : await passwordHashArg(ctx);
    ctx.app.config.update((c) => void (c.enablePassword = hash));
  },
} satisfies Handlers;
