/**
 * Mail lines. The SMTP password is shown sealed (`8 …`) while `service password-encryption` is on, in
 * clear otherwise.
 */
import { MAIL_DEFAULT_PORT, type RunningConfig } from '../../config/model.ts';
import type { RenderContext } from '../../config/render.ts';
import { cliWord } from '../format.ts';
import { renderSecret } from '../secrets.ts';

export function renderMail(cfg: Readonly<RunningConfig>, ctx: RenderContext): string[][] {
  const m = cfg.mail;
  const lines: string[] = [];
  if (m.from) lines.push(`mail from ${m.from}`);
  if (m.host) lines.push(`mail smtpserver ${m.host}${m.port === MAIL_DEFAULT_PORT ? '' : ` port ${m.port}`}`);
  if (m.tls !== 'off') lines.push(`mail smtpserver tls${m.tls === 'starttls' ? ' starttls' : ''}`);
  if (m.auth) {
    lines.push(`mail smtpserver authentication plain username ${cliWord(m.auth.user)} password ${renderSecret(cfg, ctx, m.auth.password)}`);
  }
  return [lines];
}
