/**
 * The Mailer of e-mail OTP over nodemailer (SPEC §7): the `mail` settings' server, port, TLS mode
 * (implicit TLS, or STARTTLS required) and AUTH PLAIN. Server certificates are verified against the
 * system CAs (and NODE_EXTRA_CA_CERTS). Bounded timeouts: a dead server fails a login, not the appliance.
 */
import nodemailer from 'nodemailer';

export interface SmtpSettings {
  readonly from: string;
  readonly host: string;
  readonly port: number;
  readonly tls: 'off' | 'tls' | 'starttls';
  readonly auth: { readonly user: string; readonly password: string } | undefined;
}

const TIMEOUT_MS = 10_000;

export function smtpMailer(s: SmtpSettings): { send(to: string, subject: string, text: string, date: Date): Promise<void> } {
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.tls === 'tls',
    requireTLS: s.tls === 'starttls',
    ignoreTLS: s.tls === 'off',
    auth: s.auth ? { user: s.auth.user, pass: s.auth.password, method: 'PLAIN' } : undefined,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  return {
    async send(to, subject, text, date) {
      try {
        await transport.sendMail({ from: s.from, to, subject, text, date });
      } finally {
        transport.close();
      }
    },
  };
}
