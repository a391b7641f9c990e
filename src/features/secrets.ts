/**
 * Secrets in the configuration (SMTP password, RADIUS keys, LDAP bind password): typed in clear or as
 * `8 SEALED` (the form the running config shows), kept in clear in the model because they must be
 * usable, and shown sealed while `service password-encryption` is on (AW+ "8" encrypted form).
 * Passwords (accounts, `enable password`, the built-in RADIUS server's users) are only kept as crypt(3)
 * hashes: typed in clear and hashed, or given as `8 HASH`.
 */
import { msg } from '../cli/messages.ts';
import type { RunningConfig } from '../config/model.ts';
import type { RenderContext } from '../config/render.ts';
import { arg } from '../session/context.ts';
import type { Ctx } from './appliance.ts';
import { cliWord } from './format.ts';

/** The clear text of a secret given as `<clear>` or `8 <sealed>`; a `% ` error when the sealed form does not open here. */
export function secretArg(ctx: Ctx, clear: string, sealed = 'sealed'): string {
  if (!arg.has(ctx, sealed)) return arg.str(ctx, clear);
  const opened = ctx.app.secrets.open(arg.str(ctx, sealed));
  if (opened === undefined) return ctx.error(msg.cannotDecrypt);
  return opened;
}

/**
 * The crypt(3) hash a command line gives: `8 HASH` as is, a password typed in clear hashed in a worker
 * thread (about 5 ms: a pasted block of such lines would otherwise hold every login that long a line).
 */
export async function passwordHashArg(ctx: Ctx): Promise<string | undefined> {
  if (arg.has(ctx, 'hash')) return arg.str(ctx, 'hash');
  if (!arg.has(ctx, 'password')) return undefined;
  return ctx.app.hashPassword(arg.str(ctx, 'password')).catch(() => ctx.error(msg.passwordNotHashed));
}

/** A secret as the running config shows it: `8 SEALED` under `service password-encryption`, else clear (quoted when it has spaces). */
export function renderSecret(cfg: Readonly<RunningConfig>, ctx: RenderContext, text: string): string {
  return cfg.passwordEncryption ? `8 ${ctx.seal(text)}` : cliWord(text);
}
