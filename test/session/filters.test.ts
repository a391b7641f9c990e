/**
 * Output filters (`| include RE`) are bounded (issue #17): RE2 semantics, compiled and matched in a
 * worker thread with a time limit, so no pattern can stall the event loop that RADIUS shares.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FilterError, MAX_PATTERN, openFilter, splitFilter } from '../../src/session/output.ts';

const LINES = Array.from({ length: 20_000 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog, again and again`);

test('include, exclude and begin with RE2 patterns', async () => {
  const lines = ['alpha 1', 'beta 2', 'gamma 3'];
  const run = async (kind: 'include' | 'exclude' | 'begin', source: string) => (await openFilter({ kind, source })).apply(lines);
  assert.deepEqual(await run('include', '^(a|g)'), ['alpha 1', 'gamma 3']);
  assert.deepEqual(await run('exclude', '\\d$'), []);
  assert.deepEqual(await run('begin', 'b.t'), ['beta 2', 'gamma 3']);
  assert.deepEqual(await run('include', '(?i)BETA'), ['beta 2']);
});

test('patterns RE2 cannot run in linear time are refused before the command runs', async () => {
  for (const source of ['(a)\\1', '(?=a)', '(?<!a)b', 'x{1001}']) {
    await assert.rejects(openFilter({ kind: 'include', source }), (e) => e instanceof FilterError && e.kind === 'regex', source);
  }
  const long = splitFilter(`show log | include ${'a'.repeat(MAX_PATTERN + 1)}`);
  assert.ok('error' in long && long.error === 'regex', 'an over-long pattern is not refused');
});

test('a catastrophic pattern on 20 000 lines: the event loop keeps turning and the result is right', async () => {
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  try {
    const f = await openFilter({ kind: 'include', source: '(.|.)*Q' });
    const kept = await f.apply(LINES);
    assert.deepEqual(kept, [], 'a line without Q matched');
  } finally {
    clearInterval(ticker);
  }
  assert.ok(ticks > 3, `the event loop turned only ${ticks} times while the filter ran`);
});

test('a filter that runs past its time limit is stopped; Ctrl-C stops one at once', async () => {
  // Random lines of a and b against "an a 21 places from the end": a DFA for it needs 2^21 states, so
  // RE2 keeps rebuilding its cache and falls back to its NFA; 100 000 such lines take many seconds.
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const big = Array.from({ length: 100_000 }, () => Array.from({ length: 160 }, () => (rand() < 0.5 ? 'a' : 'b')).join(''));
  const SLOW = '[ab]*a[ab]{20}c?$x?';
  // A limit of 1 s (5 s in the appliance): starting the worker and compiling fit in it even on a loaded machine.
  const slow = await openFilter({ kind: 'include', source: SLOW }, undefined, 1000);
  const t = performance.now();
  await assert.rejects(slow.apply(big), (e) => e instanceof FilterError && e.kind === 'time');
  assert.ok(performance.now() - t < 6000, 'the time limit did not stop it');
  const ac = new AbortController();
  const interrupted = await openFilter({ kind: 'include', source: SLOW }, ac.signal);
  const pending = interrupted.apply(big);
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(pending, (e) => e instanceof FilterError && e.message === 'interrupted');
});
