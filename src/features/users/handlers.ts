/**
 * Local accounts and the enable password (awplus-spec.md §4.7 [FOUND S8]): passwords are stored as
 * crypt(3) hashes; `8 HASH` takes a hash as it appears in a running config.
 */
import { msg } from '../../cli/messages.ts';
import type { RunningConfig } from '../../config/model.ts';
import { arg } from '../../session/context.ts';
import { hashPassword } from '../../util/crypt.ts';
import type { Ctx, Handlers } from '../appliance.ts';

/** Names AW+ keeps for itself (awplus-spec.md §4.7 [FOUND S8]). */
const RESERVED = new Set(['root', 'daemon', 'nobody', 'sshd', 'httpd']);

/** The hash a command line gives: `8 HASH` as is, a plain password hashed. */
function hashFrom(ctx: Ctx): string | undefined {
  if (arg.has(ctx, 'hash')) return arg.str(ctx, 'hash');
  if (arg.has(ctx, 'password')) return hashPassword(arg.str(ctx, 'password'));
  return undefined;
}

/** Whether the change would leave no privilege-15 account to administer the appliance. */
function leavesNoAdmin(cfg: Readonly<RunningConfig>, name: string, newPrivilege: number | undefined): boolean {
  return ![...cfg.users.values()].some((u) => (u.name === name ? (newPrivilege ?? 0) >= 15 : u.privilege >= 15));
}

export const handlers = {
  'users.username': (ctx) => {
    const name = arg.str(ctx, 'name');
    const cfg = ctx.app.config.current;
    const existing = cfg.users.get(name);
    if (ctx.no) {
      if (!existing) ctx.error(msg.noSuchUser(name));
      if (leavesNoAdmin(cfg, name, undefined)) ctx.error(msg.lastAdmin);
      ctx.app.config.update((c) => void c.users.delete(name));
      return;
    }
    if (RESERVED.has(name)) ctx.error(msg.reservedUser(name));
    const hash = hashFrom(ctx) ?? existing?.hash;
    if (!hash) return ctx.error(msg.passwordRequired);
    // privilege defaults to 1 for a new user and stays as it was when omitted (awplus-spec.md §4.7).
    const privilege = arg.opt<number>(ctx, 'level') ?? existing?.privilege ?? 1;
    if (existing && leavesNoAdmin(cfg, name, privilege)) ctx.error(msg.lastAdmin);
    ctx.app.config.update((c) => void c.users.set(name, { name, privilege, hash }));
  },
  'users.enable-password': (ctx) => {
    const hash = ctx.no ? undefined : hashFrom(ctx);
    ctx.app.config.update((c) => void (c.enablePassword = hash));
  },
} satisfies Handlers;
