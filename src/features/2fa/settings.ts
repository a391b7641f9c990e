/** The 2FA engine's view of the running config (VyOS get_config): defaults merged, label resolved. */
import type { RunningConfig } from '../../config/model.ts';
import { isUtc, localIso } from '../../time/timezone.ts';
import { DEFAULT_TEMPLATE, parseTemplate, type EmailTemplate } from '../../twofa/email-otp.ts';
import { EMBEDDED, type StoreChoice } from '../../twofa/store/stores.ts';
import type { TwoFaSettings } from '../../twofa/types.ts';
import type { Flash } from '../../util/flash.ts';

export function twofaSettings(cfg: Readonly<RunningConfig>): TwoFaSettings {
  const t = cfg.twofa;
  return {
    enabled: t.enabled,
    rejectUnconfigured: t.rejectUnconfigured,
    allowReuse: t.allowReuse,
    totpWindow: t.totpWindow,
    hotpWindow: t.hotpWindow,
    skewAdjust: t.skewAdjust,
    maxSkew: t.maxSkew,
    lockoutFailures: t.lockoutFailures,
    lockoutPeriod: t.lockoutPeriod,
    emailOtp: t.emailOtp,
    label: t.label ?? cfg.hostname,
    issuer: t.issuer,
  };
}

/**
 * `2fa email-template` from flash, read at send time; the built-in one otherwise. Under `clock
 * timezone` %%EXPIRY%% is local time with the zone name (`2024-03-03 21:05:00 JST`), as every time
 * the appliance shows; without it the engine's UTC text.
 */
export function emailTemplate(cfg: Readonly<RunningConfig>, flash: Flash): EmailTemplate {
  const name = cfg.twofa.emailTemplate;
  const template = name === undefined ? DEFAULT_TEMPLATE : parseTemplate(flash.read(name));
  const zone = cfg.timezone;
  if (zone === undefined || isUtc(zone)) return template;
  return { ...template, expiry: (ms) => `${localIso(ms, zone).slice(0, 19).replace('T', ' ')} ${zone.name}` };
}

/** `2fa store`: the store the appliance uses from its next boot (SPEC §16). */
export function storeChoice(cfg: Readonly<RunningConfig>): StoreChoice {
  const s = cfg.twofa.store;
  return s === undefined ? EMBEDDED : { kind: 'postgresql', target: { url: s.url, password: s.password } };
}
