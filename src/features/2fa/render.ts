/**
 * The 2FA block of the running config: `service 2fa` first (every other 2FA line needs it), then the
 * settings that differ from their defaults. While the service is off its settings are kept in the
 * model but not rendered: the lines would be refused when the file boots. Users are never here.
 */
import { TWOFA_DEFAULTS as D, type RunningConfig } from '../../config/model.ts';

export function render(cfg: Readonly<RunningConfig>): string[][] {
  const t = cfg.twofa;
  if (!t.enabled) return [];
  const lines = ['service 2fa'];
  if (t.rejectUnconfigured) lines.push('2fa reject-unconfigured-users');
  if (t.allowReuse) lines.push('2fa allow-reuse');
  if (t.totpWindow !== D.totpWindow) lines.push(`2fa totp-window-size ${t.totpWindow}`);
  if (t.hotpWindow !== D.hotpWindow) lines.push(`2fa hotp-window-size ${t.hotpWindow}`);
  if (t.skewAdjust) lines.push('2fa skew-adjust');
  if (t.maxSkew !== D.maxSkew) lines.push(`2fa max-skew ${t.maxSkew}`);
  if (t.issuer !== undefined) lines.push(`2fa issuer ${t.issuer}`);
  if (t.label !== undefined) lines.push(`2fa label ${t.label}`);
  if (t.emailOtp) lines.push('2fa email-otp');
  if (t.emailTemplate !== undefined) lines.push(`2fa email-template ${t.emailTemplate}`);
  if (t.lockoutFailures !== D.lockoutFailures || t.lockoutPeriod !== D.lockoutPeriod) {
    lines.push(`2fa lockout failures ${t.lockoutFailures} period ${t.lockoutPeriod}`);
  }
  return [lines];
}
