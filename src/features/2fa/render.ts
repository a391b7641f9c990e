/**
 * The 2FA block of the running config: `service 2fa` first (every other 2FA line needs it), then the
 * settings that differ from their defaults. Turning the service off keeps its settings (the AW+
 * manual's import procedure runs `no service 2fa`): they are still rendered, between `service 2fa`
 * and `no service 2fa`, so a saved config boots — and pastes — back to the same state. Users are
 * never here.
 */
import { TWOFA_DEFAULTS as D, type RunningConfig } from '../../config/model.ts';
import type { RenderContext } from '../../config/render.ts';
import { cliLine } from '../format.ts';
import { renderSecret } from '../secrets.ts';
import { renderLines as renderSelfRegistration } from '../self-registration/render.ts';

export function render(cfg: Readonly<RunningConfig>, ctx: RenderContext): string[][] {
  const t = cfg.twofa;
  const lines: string[] = [];
  if (t.rejectUnconfigured) lines.push('2fa reject-unconfigured-users');
  if (t.allowReuse) lines.push('2fa allow-reuse');
  if (t.totpWindow !== D.totpWindow) lines.push(`2fa totp-window-size ${t.totpWindow}`);
  if (t.hotpWindow !== D.hotpWindow) lines.push(`2fa hotp-window-size ${t.hotpWindow}`);
  if (t.skewAdjust) lines.push('2fa skew-adjust');
  if (t.maxSkew !== D.maxSkew) lines.push(`2fa max-skew ${t.maxSkew}`);
  if (t.issuer !== undefined) lines.push(`2fa issuer ${cliLine(t.issuer)}`);
  if (t.label !== undefined) lines.push(`2fa label ${cliLine(t.label)}`);
  if (t.emailOtp) lines.push('2fa email-otp');
  if (t.emailTemplate !== undefined) lines.push(`2fa email-template ${t.emailTemplate}`);
  if (t.lockoutFailures !== D.lockoutFailures || t.lockoutPeriod !== D.lockoutPeriod) {
    lines.push(`2fa lockout failures ${t.lockoutFailures} period ${t.lockoutPeriod}`);
  }
  if (t.store !== undefined) {
    const password = t.store.password === undefined ? '' : ` password ${renderSecret(cfg, ctx, t.store.password)}`;
    lines.push(`2fa store postgresql ${t.store.url}${password}`);
  }
  lines.push(...renderSelfRegistration(cfg));
  if (t.enabled) return [['service 2fa', ...lines]];
  return lines.length ? [['service 2fa', ...lines, 'no service 2fa']] : [];
}
