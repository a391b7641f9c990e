/** `show mail` (layout [OURS]); the password is never shown. */
import type { MailConfig } from '../../config/model.ts';
import { fields } from '../format.ts';

export function formatMail(m: Readonly<MailConfig>, counters: { sent: number; failures: number } | undefined): string[] {
  const rows: [string, string][] = [
    ['From', m.from ?? '(not set)'],
    ['SMTP server', m.host ? `${m.host} port ${m.port}` : '(not set)'],
    ['TLS', m.tls === 'off' ? 'Off (not secure)' : m.tls === 'tls' ? 'TLS' : 'STARTTLS'],
    ['Authentication', m.auth ? `PLAIN, user ${m.auth.user}` : 'None'],
    ['Code mails sent', String(counters?.sent ?? 0)],
    ['Code mail failures', String(counters?.failures ?? 0)],
  ];
  return fields(rows);
}
