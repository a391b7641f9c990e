/** The mail engine's view of the running config: SMTP settings once `mail from` and `mail smtpserver` are set. */
import type { RunningConfig } from '../../config/model.ts';
import type { SmtpSettings } from '../../util/smtp-mailer.ts';

export function smtpSettings(cfg: Readonly<RunningConfig>): SmtpSettings | undefined {
  const m = cfg.mail;
  if (!m.host || !m.from) return undefined;
  return { from: m.from, host: m.host, port: m.port, tls: m.tls, auth: m.auth };
}
