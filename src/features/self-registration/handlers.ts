/**
 * The self-registration page (SPEC §8; AW+ 2FA manual, TOTP方式における自己登録用Webページ 1:
 * `2fa self-registration port 10443`). Like every 2FA command these need `service 2fa`; the page
 * follows each change at once (opened, moved, re-keyed or closed) without a restart.
 */
import { msg } from '../../cli/messages.ts';
import { arg } from '../../session/context.ts';
import { flashName } from '../../util/flash.ts';
import { describeCertificate, readCertifiedKey, type CertifiedKey } from '../../util/x509.ts';
import type { Ctx, Handlers } from '../appliance.ts';
import { displayTime } from '../../time/timezone.ts';
import { zoneOf } from '../time/zone.ts';
import { formatRegistration } from './show.ts';

function requireService(ctx: Ctx): void {
  if (!ctx.app.config.current.twofa.enabled) ctx.error(msg.twofaDisabled);
}

/**
 * Makes the page follow the config (also after `service 2fa` / `no service 2fa`); a port that cannot
 * be had is a warning, and the setting stays, as for the SSH and RADIUS listeners.
 */
export async function applyPage(ctx: Ctx): Promise<void> {
  const error = await ctx.app.registration.apply();
  if (error) ctx.out.line(msg.registrationCannotListen(error));
}

/** Checked when configured: both files exist and parse, and the key is the certificate's. */
function certificateFiles(ctx: Ctx): { cert: string; key: string } {
  const files = { cert: flashName(arg.str(ctx, 'cert'))!, key: flashName(arg.str(ctx, 'key'))! };
  for (const name of [files.cert, files.key]) if (!ctx.app.flash.exists(name)) ctx.error(msg.fileNotFound(`flash:/${name}`));
  let pair: CertifiedKey;
  try {
    pair = readCertifiedKey(ctx.app.flash, files);
  } catch (e) {
    ctx.error(msg.registrationBadCertificate((e as Error).message));
  }
  const { notAfter } = describeCertificate(pair.cert);
  // Kept, with a warning: the administrator may be about to replace it, and the page works meanwhile.
  if (notAfter.getTime() < ctx.app.clock.now()) ctx.out.line(msg.registrationCertificateExpired(displayTime(notAfter.getTime(), zoneOf(ctx.app.config.current))));
  return files;
}

export const handlers = {
  'self-registration.port': async (ctx) => {
    requireService(ctx);
    ctx.app.config.update((c) => void (c.twofa.registrationPort = ctx.no ? undefined : arg.num(ctx, 'port')));
    await applyPage(ctx);
  },
  'self-registration.certificate': async (ctx) => {
    requireService(ctx);
    const files = ctx.no ? undefined : certificateFiles(ctx);
    ctx.app.config.update((c) => void (c.twofa.registrationCertificate = files));
    await applyPage(ctx);
  },
  'self-registration.show': (ctx) => {
    requireService(ctx);
    ctx.out.lines(formatRegistration(ctx.app.config.current, ctx.app.registration.status(), ctx.app.clock.now()));
  },
} satisfies Handlers;
