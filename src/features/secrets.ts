/**
 * Secrets in the configuration (SMTP password, RADIUS keys, LDAP bind password): typed in clear or as
 * `8 SEALED` (the form the running config shows), kept in clear in the model because they must be
 * usable, and shown sealed while `service password-encryption` is on (AW+ "8" encrypted form).
 */
import { msg } from '../cli/messages.ts';
import type { RunningConfig } from '../config/model.ts';
import type { RenderContext } from '../config/render.ts';
import { arg } from '../session/context.ts';
import type { Ctx } from './appliance.ts';

/** The clear text of a secret given as `<clear>` or `8 <sealed>`; a `% ` error when the sealed form does not open here. */
export function secretArg(ctx: Ctx, clear: string, sealed = 'sealed'): string {
  if (!arg.has(ctx, sealed)) return arg.str(ctx, clear);
  const opened = ctx.app.secrets.open(arg.str(ctx, sealed));
  if (opened === undefined) return ctx.error(msg.cannotDecrypt);
  return opened;
}

/** A secret as the running config shows it: `8 SEALED` under `service password-encryption`, else clear. */
export function renderSecret(cfg: Readonly<RunningConfig>, ctx: RenderContext, text: string): string {
  return cfg.passwordEncryption ? `8 ${ctx.seal(text)}` : text;
}
