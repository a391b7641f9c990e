/**
 * Pure formatters for `show version`, `show system` and `show clock`, laid out as AW+ prints them
 * (awplus-spec.md §4.5 [FOUND S13,S14,S15]; `show clock` after AW+ 5.x output [INFERRED]).
 */
import { isUtc, localIso, localRfcDate, localShortDate, UTC_ZONE, type TimeZone } from '../../time/timezone.ts';
import { formatDuration } from '../base/show.ts';

export { formatClock } from '../../time/timezone.ts';

/** `Sun, 22 Nov 2026 23:05:07` in `zone` (UTC when omitted). */
export function rfcDate(ms: number, zone: TimeZone = UTC_ZONE): string {
  return localRfcDate(ms, zone);
}

/** `Nov 22 2026 23:05:07` in `zone`, as `dir` shows file times. */
export function shortDate(ms: number, zone: TimeZone = UTC_ZONE): string {
  return localShortDate(ms, zone);
}

export function formatVersion(version: string): string[] {
  return [
    `AlliedWare Plus (TM) ${version} (awplus-2fa emulator)`,
    '',
    `Build name : awplus-2fa-${version}.rel`,
    'Build type : RELEASE',
    '',
    'This is an emulation of the AlliedWare Plus command line for a two-factor',
    'authentication appliance; it is not Allied Telesis software.',
  ];
}

export interface SystemFacts {
  readonly now: number;
  readonly zone: TimeZone;
  readonly bootedAt: number;
  readonly version: string;
  readonly hostname: string;
  readonly bootConfig: string;
  readonly bootConfigExists: boolean;
  readonly ramTotalKb: number;
  readonly ramFreeKb: number;
  readonly flashUsed: number;
  readonly flashFree: number;
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)}MB`;

export function formatSystem(f: SystemFacts): string[] {
  const rule = '-'.repeat(80);
  const uptimeMs = Math.max(0, f.now - f.bootedAt);
  const days = Math.floor(uptimeMs / 86400000);
  return [
    `${'System Status'.padEnd(48)}${rfcDate(f.now, f.zone).replace(',', '')}${isUtc(f.zone) ? '' : ` ${f.zone.name}`}`,
    '',
    'Board       ID  Bay   Board Name                         Rev   Serial number',
    rule,
    `Base         0        ${'awplus-2fa (emulated)'.padEnd(35)}${'-'.padEnd(6)}-`,
    rule,
    `RAM:  Total: ${f.ramTotalKb} kB Free: ${f.ramFreeKb} kB`,
    `Flash: ${mb(f.flashUsed + f.flashFree)} Used: ${mb(f.flashUsed)} Available: ${mb(f.flashFree)}`,
    rule,
    'Environment Status : Normal',
    `Uptime             : ${days} days ${formatDuration(uptimeMs - days * 86400000)}`,
    '',
    '',
    `Current software   : awplus-2fa-${f.version}.rel`,
    `Software version   : ${f.version}`,
    '',
    `Current boot config: flash:/${f.bootConfig}${f.bootConfigExists ? ' (file exists)' : ' (file not found)'}`,
    '',
    'System Name',
    ` ${f.hostname}`,
  ];
}

/**
 * `2024-03-03T12:00:00.000Z info  2fa-verify user=alice result=accept` — one event per line; with a
 * `clock timezone`, local time with its offset (`2024-03-03T21:00:00.000+09:00`). A time that is not
 * a number (a damaged line of the permanent log) shows as `-`.
 */
export function formatLog(events: readonly { time: number; level: string; event: string; fields: Record<string, unknown> }[], zone: TimeZone = UTC_ZONE): string[] {
  return events.map((e) => {
    const fields = Object.entries(e.fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
    return [Number.isFinite(e.time) ? localIso(e.time, zone) : '-', e.level.padEnd(5), e.event, ...fields].join(' ');
  });
}
