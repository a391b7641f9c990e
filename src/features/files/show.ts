/**
 * Pure formatters for `show boot` and `dir` (awplus-spec.md §4.4-§4.5 [FOUND S14,S15]).
 */
import { UTC_ZONE, type TimeZone } from '../../time/timezone.ts';
import type { FlashEntry } from '../../util/flash.ts';
import { shortDate } from '../system/show.ts';

export function formatBoot(version: string, current: string, currentExists: boolean, defaultExists: boolean): string[] {
  const exists = (yes: boolean) => (yes ? '(file exists)' : '(file not found)');
  return [
    'Boot configuration',
    '-'.repeat(80),
    `Current software   : awplus-2fa-${version}.rel`,
    'Current boot image : (emulated)',
    'Backup  boot image : Not set',
    `Default boot config: flash:/default.cfg ${exists(defaultExists)}`,
    `Current boot config: flash:/${current} ${exists(currentExists)}`,
    'Backup  boot config: Not set',
    'Autoboot status    : disabled',
  ];
}

/** `      861 -rw- Jun 17 2021 02:37:41  default.cfg`, in local time as AW+ shows it (no zone name: no room). */
export function formatDir(entries: readonly FlashEntry[], zone: TimeZone = UTC_ZONE): string[] {
  return entries.map((e) => `${String(e.size).padStart(9)} -rw- ${shortDate(e.modified.getTime(), zone)}  ${e.name}`);
}
