/** The 2FA engine's view of the running config (VyOS get_config): defaults merged, label resolved. */
import type { RunningConfig } from '../../config/model.ts';
import type { TwoFaSettings } from '../../twofa/types.ts';

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
