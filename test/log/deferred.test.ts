/**
 * DeferredLog: events reach their sinks (the JSON lines, the permanent log, syslog) after the turn that
 * logged them, all of the turn's at once, stamped with the time they happened, in order, to every sink
 * even when one throws; flush() hands them over at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeferredLog } from '../../src/log/deferred.ts';
import { ManualClock } from '../../src/util/clock.ts';
import type { LogEvent } from '../../src/util/log.ts';

test('nothing on the caller’s turn; after it, every event with the time it was logged, in order', async () => {
  const clock = new ManualClock(1000);
  const got: LogEvent[] = [];
  let batches = 0;
  const log = new DeferredLog(() => clock.now(), [(es) => void (batches++, got.push(...es))]);
  log.info('radius-auth', { user: 'alice', result: 'accept' });
  clock.advance(5);
  log.error('radius-drop', { client: '192.0.2.1' });
  assert.equal(got.length, 0, 'no sink runs while the caller is still on its turn');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, [
    { time: 1000, level: 'info', event: 'radius-auth', fields: { user: 'alice', result: 'accept' } },
    { time: 1005, level: 'error', event: 'radius-drop', fields: { client: '192.0.2.1' } },
  ]);
  assert.equal(batches, 1, 'the events of one turn reach a sink in one call (one write on stderr)');
});

test('flush() hands over at once; a throwing sink loses nothing for the others', () => {
  const got: string[] = [];
  const log = new DeferredLog(() => 0, [
    () => {
      throw new Error('broken sink');
    },
    (es) => void got.push(...es.map((e) => e.event)),
  ]);
  log.info('a');
  log.info('b');
  log.flush();
  assert.deepEqual(got, ['a', 'b']);
  log.flush();
  assert.deepEqual(got, ['a', 'b'], 'nothing is handed over twice');
});
