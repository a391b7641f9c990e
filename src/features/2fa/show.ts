/**
 * Pure formatters for `show 2fa`, `show 2fa users`, `show 2fa user` and `2fa create user` (layout
 * [OURS], AW+-style: aligned `name : value` lines and column tables with a dashed rule).
 */
import type { TwoFaConfig } from '../../config/model.ts';
import type { TwoFaCounters } from '../../twofa/facade.ts';
import { sameChoice, type StoreChoice, type StoreStatus } from '../../twofa/store/stores.ts';
import type { TwoFaSettings, TwoFaUser } from '../../twofa/types.ts';
import { displayTime, UTC_ZONE, type TimeZone } from '../../time/timezone.ts';
import { fields } from '../format.ts';

const KIND: Record<TwoFaUser['kind'], string> = { totp: 'TOTP', hotp: 'HOTP', skip: 'skip-2fa', email: 'e-mail' };
const hasCodes = (u: TwoFaUser) => u.kind === 'totp' || u.kind === 'hotp';

const onOff = (b: boolean) => (b ? 'Enabled' : 'Disabled');

export function formatSettings(
  t: Readonly<TwoFaConfig>,
  s: TwoFaSettings,
  /** undefined: the store cannot be read now. */
  users: readonly TwoFaUser[] | undefined,
  c: TwoFaCounters,
  mail: { sent: number; failures: number } | undefined,
  store: readonly (readonly [string, string])[] = [],
): string[] {
  const count = (k: TwoFaUser['kind']) => users!.filter((u) => u.kind === k).length;
  return fields([
    ['2FA service', onOff(t.enabled)],
    ['Reject unconfigured users', t.rejectUnconfigured ? 'Yes' : 'No'],
    ['Code reuse (TOTP)', t.allowReuse ? 'Allowed' : 'Not allowed'],
    ['TOTP window size', String(t.totpWindow)],
    ['HOTP window size', String(t.hotpWindow)],
    ['Skew adjustment', onOff(t.skewAdjust)],
    ['Maximum skew', `${t.maxSkew} steps`],
    ['Issuer', t.issuer ?? '(not set)'],
    ['Label', t.label === undefined ? `${s.label} (hostname)` : t.label],
    ['Lockout', `${t.lockoutFailures} failures in ${t.lockoutPeriod} seconds`],
    ['E-mail OTP', onOff(t.emailOtp)],
    ['E-mail template', t.emailTemplate === undefined ? '(built-in)' : `flash:/${t.emailTemplate}`],
    ['Users', users ? `${users.length} (TOTP ${count('totp')}, HOTP ${count('hotp')}, e-mail ${count('email')}, skip-2fa ${count('skip')})` : '(the store is unavailable)'],
    ...store,
    ['Codes accepted', String(c.accepted)],
    ['Codes rejected', String(c.rejected)],
    ['Scratch codes used', String(c.scratchUsed)],
    ['Skews learned', String(c.skewLearned)],
    ['Lockouts', String(c.lockouts)],
    ['E-mail codes sent', String(mail?.sent ?? 0)],
    ['E-mail failures', String(mail?.failures ?? 0)],
  ]);
}

const locked = (u: TwoFaUser, now: number) => u.lockedUntil !== undefined && u.lockedUntil > now;

/** One line a user: name, type, scratch codes left, skew, locked out, e-mail (SPEC §4). */
export function formatUsers(users: readonly TwoFaUser[], now: number): string[] {
  const nameWidth = Math.max(16, ...users.map((u) => u.name.length));
  const head = `${'User'.padEnd(nameWidth)}  Type      Scratch   Skew  Locked  E-mail`;
  const rule = `${'-'.repeat(nameWidth)}  --------  -------  -----  ------  ${'-'.repeat(24)}`;
  const rows = users.map(
    (u) =>
      `${u.name.padEnd(nameWidth)}  ${KIND[u.kind].padEnd(8)}  ${String(hasCodes(u) ? u.scratch.length : '-').padStart(7)}  ${(u.kind === 'totp' ? String(u.skew) : '-').padStart(5)}  ${(locked(u, now) ? 'yes' : '-').padEnd(6)}  ${u.email ?? '-'}`,
  );
  return [head, rule, ...rows];
}

/** Everything about one user (SPEC §4 `show 2fa user`); secrets included: privilege 15 only. */
export function formatUser(u: TwoFaUser, url: string, now: number, zone: TimeZone = UTC_ZONE): string[] {
  const rows: [string, string][] = [
    ['User', u.name],
    ['Type', KIND[u.kind]],
  ];
  if (hasCodes(u)) {
    rows.push(['Secret key', u.secret], ['OTP URL', url], ['Scratch codes', u.scratch.length ? u.scratch.join(' ') : '(none left)']);
    if (u.kind === 'hotp') rows.push(['HOTP counter', String(u.counter)]);
    if (u.kind === 'totp') rows.push(['Skew correction', `${u.skew} steps`]);
  }
  rows.push(
    ['E-mail', u.email ?? '(not set)'],
    ['Skip 2FA', u.kind === 'skip' ? 'Yes' : 'No'],
    ['Last login', u.lastLogin === undefined ? 'Never' : displayTime(u.lastLogin, zone)],
    ['Lockout', locked(u, now) ? `Locked until ${displayTime(u.lockedUntil!, zone)}` : 'Not locked'],
  );
  return fields(rows);
}

/** What `2fa create user` prints: secret, URL, and the scratch codes last (after any QR code). */
export function formatCreated(u: TwoFaUser, url: string): { head: string[]; scratch: string[] } {
  if (!hasCodes(u)) return { head: [], scratch: [] };
  return {
    head: fields([
      ['Secret key', u.secret],
      ['OTP URL', url],
    ]),
    scratch: ['Scratch codes (each can be used once):', ...u.scratch.map((c) => `  ${c}`)],
  };
}

const storeName = (c: StoreChoice) => (c.kind === 'embedded' ? 'embedded (flash)' : `PostgreSQL ${c.target.url}`);

/**
 * `show 2fa`'s lines about the user store (SPEC §16): which one, its health and round trip, the last
 * outage, and the store the next boot will use when `2fa store` changed it.
 */
export function formatStore(status: StoreStatus, configured: StoreChoice, zone: TimeZone = UTC_ZONE): [string, string][] {
  const rows: [string, string][] = [['User store', storeName(status.choice)]];
  if (status.choice.kind === 'postgresql') {
    const h = status.health;
    const outage = h.since === undefined ? '' : `since ${displayTime(h.since, zone)}, ${h.refused} refused: ${h.reason}`;
    if (h.state === 'unavailable') rows.push(['Store state', `Unavailable ${outage} (logins needing a code are rejected)`]);
    else rows.push(['Store state', h.state === 'starting' ? 'Connecting' : `Available${h.latencyMs === undefined ? '' : `, round trip ${h.latencyMs.toFixed(2)} ms`}`]);
    if (h.outages > 0 && h.state !== 'unavailable') rows.push(['Store outages', `${h.outages}, the last ${outage.replace(/^since/, 'from')}`]);
  }
  if (!sameChoice(configured, status.choice)) rows.push(['Store after reboot', storeName(configured)]);
  return rows;
}
