/**
 * E-mail one-time passwords (SPEC §7; AW+ manual 電子メールを使用する場合): 6 digits, valid 5 minutes,
 * single use, bound to the RADIUS State of its challenge (kept by the caller), at most one mail per user
 * per 30 s. The mail goes out through an injected Mailer (nodemailer in production).
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';

/** How long a mailed code is valid. */
export const EMAIL_CODE_TTL_MS = 5 * 60_000;
/** Minimum time between two mails to one user. */
export const EMAIL_INTERVAL_MS = 30_000;

/** Sends one text mail; rejects with the reason on any SMTP failure. */
export interface Mailer {
  /** `date`: the appliance clock's time, for the Date header (RFC 5322 §3.6.1: the time of sending). */
  send(to: string, subject: string, text: string, date: Date): Promise<void>;
}

/** A template: `%%CODE%%`, `%%USER%%`, `%%LABEL%%`, `%%EXPIRY%%`; an optional first line `Subject: …`. */
export interface EmailTemplate {
  readonly subject: string;
  readonly body: string;
  /** How %%EXPIRY%% is written (the configured time zone); `YYYY-MM-DD HH:MM:SS UTC` when absent. */
  readonly expiry?: (ms: number) => string;
}

const VARIABLES = ['CODE', 'USER', 'LABEL', 'EXPIRY'];

/** The built-in template [OURS]. */
export const DEFAULT_TEMPLATE: EmailTemplate = {
  subject: 'Verification code for %%LABEL%%',
  body: 'Your verification code for %%USER%%@%%LABEL%% is %%CODE%%.\nIt can be used once, until %%EXPIRY%%.\n',
};

/** Parses a template file; throws an Error naming an unknown variable, or a template without %%CODE%%. */
export function parseTemplate(text: string): EmailTemplate {
  const unknown = [...text.matchAll(/%%([A-Za-z0-9_]*)%%/g)].map((m) => m[1]!).find((v) => !VARIABLES.includes(v));
  if (unknown !== undefined) throw new Error(`unknown variable %%${unknown}%%`);
  if (!text.includes('%%CODE%%')) throw new Error('the template has no %%CODE%%');
  const m = /^Subject:[ \t]*(.*)\r?\n/i.exec(text);
  return m ? { subject: m[1]!, body: text.slice(m[0].length) } : { subject: DEFAULT_TEMPLATE.subject, body: text };
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/%%(CODE|USER|LABEL|EXPIRY)%%/g, (_, k: string) => values[k]!);
}

export type IssueResult = { readonly ok: true; readonly code: string; readonly expires: number } | { readonly ok: false; readonly reason: 'mail-rate-limited' | 'mail-failed' };

export class EmailOtp {
  private readonly lastSent = new Map<string, number>();
  readonly counters = { sent: 0, failures: 0 };

  constructor(
    private readonly mailer: () => Mailer,
    private readonly template: () => EmailTemplate,
    private readonly clock: Clock,
    private readonly log: Log,
  ) {}

  /** Makes a code and mails it to `address`; the caller binds it to a challenge State. */
  async issue(user: string, address: string, label: string): Promise<IssueResult> {
    const now = this.clock.now();
    const last = this.lastSent.get(user);
    if (last !== undefined && now - last < EMAIL_INTERVAL_MS && now >= last) return { ok: false, reason: 'mail-rate-limited' };
    this.lastSent.set(user, now);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expires = now + EMAIL_CODE_TTL_MS;
    try {
      const t = this.template();
      const expiry = t.expiry ? t.expiry(expires) : `${new Date(expires).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
      const values = { CODE: code, USER: user, LABEL: label, EXPIRY: expiry };
      await this.mailer().send(address, fill(t.subject, values), fill(t.body, values), new Date(now));
    } catch (e) {
      this.counters.failures++;
      this.log.error('email-otp-failed', { user, reason: (e as Error).message });
      return { ok: false, reason: 'mail-failed' };
    }
    this.counters.sent++;
    this.log.info('email-otp-sent', { user });
    return { ok: true, code, expires };
  }
}
