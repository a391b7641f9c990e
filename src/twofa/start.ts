/**
 * The 2FA subsystem as the appliance starts it: e-mail OTP over the `mail` settings, and the facade
 * over it and the user store the appliance opened.
 */
import type { Clock } from '../util/clock.ts';
import type { Flash } from '../util/flash.ts';
import type { Log } from '../util/log.ts';
import { smtpMailer, type SmtpSettings } from '../util/smtp-mailer.ts';
import { EmailOtp, type EmailTemplate } from './email-otp.ts';
import { TwoFactor } from './facade.ts';
import type { UserStore } from './store/types.ts';
import type { TwoFaSettings } from './types.ts';
import type { SkewSearch } from './verifier.ts';

export interface TwoFactorOptions {
  readonly flash: Flash;
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: () => TwoFaSettings;
  /** The SMTP settings; undefined while `mail from` or `mail smtpserver` is missing. */
  readonly smtp: () => SmtpSettings | undefined;
  /** The code mail's template (`2fa email-template`, read at send time). */
  readonly template: () => EmailTemplate;
  /** The worst-case skew search, in a worker thread (app.ts). */
  readonly searchSkew: SkewSearch;
}

/** Builds the facade over the appliance's user store (UserStores: embedded or shared, SPEC §16). */
export function startTwoFactor(o: TwoFactorOptions, store: UserStore): TwoFactor {
  const mailer = () => {
    const smtp = o.smtp();
    if (!smtp) throw new Error('mail from and mail smtpserver are not configured');
    return smtpMailer(smtp);
  };
  return new TwoFactor(store, o.clock, o.log, o.settings, o.flash, o.searchSkew, new EmailOtp(mailer, o.template, o.clock, o.log));
}
