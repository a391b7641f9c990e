/**
 * `clock timezone NAME {plus|minus} HH[:MM]`: a fixed offset from UTC, for display only. The appliance
 * clock, OTP steps, lockout arithmetic and the logs' stored times stay UTC (SPEC §17); these helpers
 * turn a UTC instant into the local wall-clock text that `show clock`, last login, lockout, `dir` and
 * `show log` print.
 *
 * Limits (AW+ command reference, `clock timezone <timezone-name> {plus|minus} {<0-13>|<0-12>:<00-59>}`,
 * recalled, not found in research/awplus-spec.md: [INFERRED]): the name is 1–6 characters (the same
 * reference's `clock summer-time` names are "up to 6 characters long" [FOUND]); the offset is at most
 * 13 hours either way with minutes 00–59. That covers every zone in use but UTC+14 (Line Islands),
 * which AW+ cannot express either. Summer time is not modelled.
 */

/** A fixed-offset zone: `offsetMinutes` east of UTC (plus is positive). */
export interface TimeZone {
  readonly name: string;
  readonly offsetMinutes: number;
}

/** No `clock timezone`: UTC, printed as today. */
export const UTC_ZONE: TimeZone = { name: 'UTC', offsetMinutes: 0 };

export const isUtc = (zone: TimeZone) => zone.offsetMinutes === 0 && zone.name === 'UTC';

/** Most minutes either way: 13 hours. */
export const MAX_OFFSET_MINUTES = 13 * 60;

/** Validates the three arguments of `clock timezone`; the error is a sentence for `% …`. */
export function parseTimezone(name: string, direction: string, offset: string): { zone: TimeZone } | { error: string } {
  if (!/^[A-Za-z0-9_+-]{1,6}$/.test(name)) return { error: 'Invalid timezone name: up to 6 letters, digits, "_", "+" or "-"' };
  if (direction !== 'plus' && direction !== 'minus') return { error: 'The offset direction is plus or minus' };
  const m = /^(\d{1,2})(?::(\d{2}))?$/.exec(offset);
  if (!m) return { error: 'Invalid offset: HH or HH:MM' };
  const hours = Number(m[1]);
  const minutes = m[2] === undefined ? 0 : Number(m[2]);
  if (minutes > 59) return { error: 'Invalid offset: minutes are 00 to 59' };
  const total = hours * 60 + minutes;
  if (total > MAX_OFFSET_MINUTES) return { error: 'Invalid offset: at most 13 hours from UTC' };
  return { zone: { name, offsetMinutes: direction === 'plus' ? total : -total } };
}

/** The arguments as the running-config prints them: `JST plus 9`, `IST plus 5:30`, `NST minus 3:30`. */
export function timezoneArgs(zone: TimeZone): string {
  const abs = Math.abs(zone.offsetMinutes);
  const h = Math.floor(abs / 60);
  const m = abs % 60;
  return `${zone.name} ${zone.offsetMinutes < 0 ? 'minus' : 'plus'} ${h}${m ? `:${pad2(m)}` : ''}`;
}

/** `+09:00` (`colon`) or `+0900`, the RFC 3339 / RFC 5322 forms. */
export function formatOffset(zone: TimeZone, colon = true): string {
  const abs = Math.abs(zone.offsetMinutes);
  return `${zone.offsetMinutes < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}${colon ? ':' : ''}${pad2(abs % 60)}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** The wall clock in `zone` at the UTC instant `ms`, as a Date whose UTC fields are the local ones. */
const wall = (ms: number, zone: TimeZone) => new Date(ms + zone.offsetMinutes * 60_000);
const hms = (d: Date) => `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;

/** `Sun, 03 Mar 2024 21:00:00` in `zone` (features/system/show.ts rfcDate, local). */
export function localRfcDate(ms: number, zone: TimeZone): string {
  const d = wall(ms, zone);
  return `${DAYS[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${hms(d)}`;
}

/** `Mar 03 2024 21:00:00` in `zone`, as `dir` shows file times. */
export function localShortDate(ms: number, zone: TimeZone): string {
  const d = wall(ms, zone);
  return `${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${d.getUTCFullYear()} ${hms(d)}`;
}

/** `Sun, 03 Mar 2024 21:00:00 JST`: last login and lockout (`… UTC` without a zone, as today). */
export function displayTime(ms: number, zone: TimeZone): string {
  return `${localRfcDate(ms, zone)} ${zone.name}`;
}

/**
 * `2024-03-03T21:00:00.000+09:00` for `show log`: RFC 3339 local time with its offset, so lines still sort
 * and parse; without a zone exactly today's `toISOString()` (`…Z`).
 */
export function localIso(ms: number, zone: TimeZone): string {
  if (zone.offsetMinutes === 0) return new Date(ms).toISOString();
  return wall(ms, zone).toISOString().replace('Z', formatOffset(zone));
}

/**
 * `show clock`. Without `clock timezone` the lines are today's; with one, AW+ puts the local time
 * first (AW+ `show clock` example output, [INFERRED] from the command reference).
 */
export function formatClock(now: number, zone: TimeZone): string[] {
  const utc = [`UTC Time:   ${localRfcDate(now, UTC_ZONE)} +0000`];
  const rest = [`Timezone: ${zone.name}`, `Timezone Offset: ${formatOffset(zone)}`, 'Summer time zone: None'];
  if (isUtc(zone)) return [...utc, ...rest];
  return [`Local Time: ${localRfcDate(now, zone)} ${formatOffset(zone, false)}`, ...utc, ...rest];
}

/** The UTC instant of a local wall-clock time in `zone` (`clock set` takes local time). */
export function localToUtc(localMs: number, zone: TimeZone): number {
  return localMs - zone.offsetMinutes * 60_000;
}
