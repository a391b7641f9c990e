/**
 * The JSON lines on the daemon's stderr (SPEC §11): one line per event, time, level and event first
 * and then its fields; an event JSON cannot hold still gives a line, never an exception in the log path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonLine } from '../../src/util/log.ts';

test('an event is one JSON line: time, level, event, then its fields', () => {
  const line = jsonLine({ time: Date.UTC(2024, 2, 3, 12), level: 'info', event: 'radius-auth', fields: { user: 'alice', result: 'accept' } });
  assert.equal(line, '{"time":"2024-03-03T12:00:00.000Z","level":"info","event":"radius-auth","user":"alice","result":"accept"}\n');
});

test('fields JSON cannot hold (a BigInt, a cycle) give a line that says so', () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  for (const fields of [{ n: 10n }, { cycle }]) {
    const line = jsonLine({ time: Date.UTC(2024, 2, 3, 12), level: 'error', event: 'odd', fields });
    assert.deepEqual(JSON.parse(line), { time: '2024-03-03T12:00:00.000Z', level: 'error', event: 'odd', unserializable: true });
  }
});
