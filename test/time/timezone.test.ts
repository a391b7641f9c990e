/**
 * `clock timezone` display helpers: validation of the AW+ arguments, local wall-clock text, and the
 * promise that without a zone every format is byte-for-byte what the CLI prints today.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  displayTime,
  formatClock,
  formatOffset,
  localIso,
  localRfcDate,
  localShortDate,
  localToUtc,
  parseTimezone,
  timezoneArgs,
  UTC_ZONE,
  type TimeZone,
} from '../../src/time/timezone.ts';

const T = Date.UTC(2024, 2, 3, 12, 0, 5, 250); // Sun 2024-03-03 12:00:05.250Z

function zone(name: string, dir: string, off: string): TimeZone {
  const r = parseTimezone(name, dir, off);
  if ('error' in r) assert.fail(r.error);
  return r.zone;
}

test('parses the AW+ forms', () => {
  assert.deepEqual(zone('JST', 'plus', '9'), { name: 'JST', offsetMinutes: 540 });
  assert.deepEqual(zone('IST', 'plus', '5:30'), { name: 'IST', offsetMinutes: 330 });
  assert.deepEqual(zone('NST', 'minus', '03:30'), { name: 'NST', offsetMinutes: -210 });
  assert.deepEqual(zone('NZDT', 'plus', '13'), { name: 'NZDT', offsetMinutes: 780 });
  assert.deepEqual(zone('GMT', 'plus', '0'), { name: 'GMT', offsetMinutes: 0 });
});

test('rejects what AW+ cannot express', () => {
  for (const [n, d, o] of [
    ['JST', 'plus', '14'],
    ['JST', 'plus', '13:30'],
    ['JST', 'plus', '9:60'],
    ['JST', 'plus', '9:5'],
    ['JST', 'plus', '-9'],
    ['JST', 'east', '9'],
    ['TOOLONG', 'plus', '9'],
    ['', 'plus', '9'],
    ['J ST', 'plus', '9'],
  ] as const) {
    assert.ok('error' in parseTimezone(n, d, o), `${n} ${d} ${o} accepted`);
  }
});

test('running-config arguments round trip', () => {
  for (const line of ['JST plus 9', 'IST plus 5:30', 'NST minus 3:30', 'HST minus 10', 'UTC plus 0']) {
    const [n, d, o] = line.split(' ') as [string, string, string];
    assert.equal(timezoneArgs(zone(n, d, o)), line);
  }
});

test('without a zone every format is the one the CLI printed before time zones existed', () => {
  // The literal texts of the UTC-only formatters this module replaced (features/system/show.ts before
  // `clock timezone`), so `show clock`, `dir`, last login and `show log` did not change for anyone.
  assert.equal(localRfcDate(T, UTC_ZONE), 'Sun, 03 Mar 2024 12:00:05');
  assert.equal(localShortDate(T, UTC_ZONE), 'Mar 03 2024 12:00:05');
  assert.equal(displayTime(T, UTC_ZONE), 'Sun, 03 Mar 2024 12:00:05 UTC');
  assert.equal(localIso(T, UTC_ZONE), '2024-03-03T12:00:05.250Z');
  assert.deepEqual(formatClock(T, UTC_ZONE), ['UTC Time:   Sun, 03 Mar 2024 12:00:05 +0000', 'Timezone: UTC', 'Timezone Offset: +00:00', 'Summer time zone: None']);
});

test('local wall-clock text, across a date line', () => {
  const jst = zone('JST', 'plus', '9');
  const hst = zone('HST', 'minus', '10');
  const nst = zone('NST', 'minus', '3:30');
  assert.equal(localRfcDate(T, jst), 'Sun, 03 Mar 2024 21:00:05');
  assert.equal(localRfcDate(T, hst), 'Sun, 03 Mar 2024 02:00:05');
  assert.equal(localRfcDate(Date.UTC(2024, 2, 3, 20), jst), 'Mon, 04 Mar 2024 05:00:00');
  assert.equal(localShortDate(T, nst), 'Mar 03 2024 08:30:05');
  assert.equal(displayTime(T, jst), 'Sun, 03 Mar 2024 21:00:05 JST');
  assert.equal(localIso(T, jst), '2024-03-03T21:00:05.250+09:00');
  assert.equal(localIso(T, nst), '2024-03-03T08:30:05.250-03:30');
  assert.equal(Date.parse(localIso(T, nst)), T, 'the RFC 3339 text names the same instant');
  assert.equal(formatOffset(nst), '-03:30');
  assert.equal(formatOffset(jst, false), '+0900');
});

test('show clock with a zone puts the local time first', () => {
  assert.deepEqual(formatClock(T, zone('JST', 'plus', '9')), [
    'Local Time: Sun, 03 Mar 2024 21:00:05 +0900',
    'UTC Time:   Sun, 03 Mar 2024 12:00:05 +0000',
    'Timezone: JST',
    'Timezone Offset: +09:00',
    'Summer time zone: None',
  ]);
});

test('local to UTC is the inverse', () => {
  const ist = zone('IST', 'plus', '5:30');
  assert.equal(localToUtc(Date.UTC(2024, 2, 3, 17, 30, 5, 250), ist), T);
});
