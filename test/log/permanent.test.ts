/**
 * `show log permanent`: lines reach flash within about a second without the caller waiting, close()
 * flushes, rotation bounds the size, a new instance (a restart) reads the old files, torn lines are
 * skipped, and a full flash (a real 64 KiB tmpfs, as root) neither throws nor tears a line: the log
 * drops lines, counts them and says so once space returns.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DROPPED_EVENT, PermanentLog } from '../../src/log/permanent.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { peer } from '../helpers/peers.ts';

const T = Date.UTC(2024, 2, 3, 12, 0, 0);

function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'awplus-permlog-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

async function until(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fileLines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : []);

test('a line reaches flash within about a second; append itself does no IO', async () => {
  using tmp = tempDir();
  const log = new PermanentLog({ dir: tmp.dir, now: () => T });
  const file = join(tmp.dir, '.log-permanent');
  const t0 = performance.now();
  log.info('radius-auth', { user: 'alice', result: 'accept' });
  assert.equal(existsSync(file), false, 'nothing written on the caller’s time');
  await until('the line in flash', () => fileLines(file).length === 1, 2500);
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < 1500, `flushed after ${elapsed} ms`);
  assert.deepEqual(JSON.parse(fileLines(file)[0]!), { time: '2024-03-03T12:00:00.000Z', level: 'info', event: 'radius-auth', fields: { user: 'alice', result: 'accept' } });
  await log.close();
});

test('close() flushes what is queued; secret-looking fields never reach flash', async () => {
  using tmp = tempDir();
  const log = new PermanentLog({ dir: tmp.dir, now: () => T, flushIntervalMs: 3_600_000 });
  log.error('2fa-verify', { user: 'bob', result: 'reject', code: '123456', password: 'hunter2' });
  await log.close();
  const text = readFileSync(join(tmp.dir, '.log-permanent'), 'utf8');
  assert.equal(text, '{"time":"2024-03-03T12:00:00.000Z","level":"error","event":"2fa-verify","fields":{"user":"bob","result":"reject"}}\n');
  log.info('after-close');
  assert.equal(log.stats().bufferedLines, 0, 'ignored after close');
});

test('rotation keeps at most `files` files of at most `maxFileBytes`, and the newest events', async () => {
  using tmp = tempDir();
  const clock = new ManualClock(T);
  const log = new PermanentLog({ dir: tmp.dir, now: () => clock.now(), maxFileBytes: 4096, files: 3, flushIntervalMs: 3_600_000 });
  for (let i = 0; i < 500; i++) {
    log.info('seq', { i });
    clock.advance(1000);
    if (i % 50 === 49) await log.flush();
  }
  await log.flush();
  const names = readdirSync(tmp.dir).sort();
  assert.deepEqual(names, ['.log-permanent', '.log-permanent.1', '.log-permanent.2']);
  for (const n of names) assert.ok(statSync(join(tmp.dir, n)).size <= 4096, `${n} is ${statSync(join(tmp.dir, n)).size} bytes`);
  const events = await log.read();
  const seq = events.map((e) => e.fields.i as number);
  assert.equal(seq.at(-1), 499);
  assert.deepEqual(seq, Array.from({ length: seq.length }, (_, k) => 500 - seq.length + k), 'contiguous, oldest first');
  assert.ok(seq.length > 100 && seq.length < 500, `${seq.length} events kept`);
  assert.equal(events.at(-1)!.time, T + 499_000);
  assert.deepEqual((await log.read(3)).map((e) => e.fields.i), [497, 498, 499]);
  await log.close();
});

test('a restart: a new instance reads the old files and appends after them', async () => {
  using tmp = tempDir();
  const first = new PermanentLog({ dir: tmp.dir, now: () => T, maxFileBytes: 2048 });
  for (let i = 0; i < 40; i++) first.info('before', { i });
  await first.flush(); // on disk, not closed: as after a crash past the last flush
  const second = new PermanentLog({ dir: tmp.dir, now: () => T + 1 });
  const seen = await second.read();
  assert.equal(seen.at(-1)!.fields.i, 39);
  assert.ok(seen.every((e) => e.event === 'before'));
  second.info('after', { i: 40 });
  await second.close();
  await first.close();
  const third = new PermanentLog({ dir: tmp.dir, now: () => T + 2 });
  const all = await third.read();
  assert.deepEqual(all.slice(-2).map((e) => [e.event, e.fields.i]), [['before', 39], ['after', 40]]);
  await third.close();
});

test('a torn last line (crash mid-write) is skipped and the next line starts fresh', async () => {
  using tmp = tempDir();
  const file = join(tmp.dir, '.log-permanent');
  writeFileSync(file, '{"time":"2024-03-03T12:00:00.000Z","level":"info","event":"ok","fields":{}}\n{"time":"2024-03-0');
  const log = new PermanentLog({ dir: tmp.dir, now: () => T });
  log.info('next');
  await log.close();
  assert.deepEqual((await new PermanentLog({ dir: tmp.dir, now: () => T }).read()).map((e) => e.event), ['ok', 'next']);
  assert.equal(fileLines(file).length, 3, 'the torn text stays on its own line');
});

test('a burst beyond the buffer: lines dropped, counted and marked where they were lost', async () => {
  using tmp = tempDir();
  const log = new PermanentLog({ dir: tmp.dir, now: () => T, maxBufferBytes: 2048, flushIntervalMs: 3_600_000 });
  for (let i = 0; i < 100; i++) log.info('burst', { i, pad: 'x'.repeat(20) });
  const { dropped } = log.stats();
  assert.ok(dropped > 0 && dropped < 100, `dropped ${dropped}`);
  await log.close();
  const events = await new PermanentLog({ dir: tmp.dir, now: () => T }).read();
  const kept = events.filter((e) => e.event === 'burst');
  assert.equal(kept.length, 100 - dropped);
  assert.deepEqual(kept.map((e) => e.fields.i), Array.from({ length: kept.length }, (_, k) => k), 'the first ones kept');
  assert.deepEqual(events.at(-1), { time: T, level: 'error', event: DROPPED_EVENT, fields: { lines: dropped, reason: 'buffer full' } });
});

const isRoot = process.getuid?.() === 0;

test('a full flash: logging goes on for the caller, lines are dropped, counted and marked, nothing torn', { skip: isRoot ? false : 'needs root to mount a 64 KiB tmpfs (mount -t tmpfs)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'awplus-permlog-'));
  const flash = join(dir, 'flash');
  mkdirSync(flash);
  execFileSync(peer('mount'), ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', flash]);
  let log: PermanentLog | undefined;
  try {
    // Fill the flash, then give one 4 KiB page back: the log gets a few lines in, then a write that
    // crosses into the next page is cut short (a partial write) and the following ones fail outright.
    const filler = join(flash, 'filler');
    try {
      for (;;) appendFileSync(filler, Buffer.alloc(4096, 0x78));
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    truncateSync(filler, statSync(filler).size - 4096);

    log = new PermanentLog({ dir: flash, now: () => T, maxBufferBytes: 4096, flushIntervalMs: 50 });
    const logFile = join(flash, '.log-permanent');
    const size = () => (existsSync(logFile) ? statSync(logFile).size : -1);
    for (let round = 0; round < 10; round++) {
      const before = size();
      for (let i = round * 20; i < round * 20 + 20; i++) log.info('login', { i, user: `user${i}` }); // must not throw
      assert.equal(size(), before, 'append never writes on the caller’s time');
      await new Promise((r) => setTimeout(r, 60)); // let flushes run (and fail)
    }
    const full = log.stats();
    assert.equal(full.failing, 'ENOSPC');
    assert.ok(full.writeErrors > 0);
    assert.ok(full.dropped > 0, 'lines dropped while full');
    assert.ok(full.bufferedBytes <= 4096 + 4096, 'the queue stays bounded');

    // Space returns: the queued lines, then one marker for the gap, reach flash.
    unlinkSync(filler);
    await until('the flush after space returned', () => log!.stats().failing === undefined && log!.stats().bufferedLines === 0, 5000);
    log.info('recovered');
    await log.close();
    const text = readFileSync(join(flash, '.log-permanent'), 'utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    assert.ok(text.endsWith('\n'));
    for (const l of lines) JSON.parse(l); // no torn line
    const events = lines.map((l) => JSON.parse(l) as { event: string; fields: { i?: number; lines?: number; reason?: string } });
    const logins = events.filter((e) => e.event === 'login').map((e) => e.fields.i);
    assert.deepEqual(logins, Array.from({ length: logins.length }, (_, k) => k), 'the oldest lines were kept, in order');
    const gaps = events.filter((e) => e.event === DROPPED_EVENT);
    assert.equal(gaps.reduce((n, g) => n + g.fields.lines!, 0), full.dropped);
    assert.ok(gaps.every((g) => /ENOSPC|buffer full/.test(g.fields.reason!)), JSON.stringify(gaps));
    assert.ok(gaps.some((g) => g.fields.reason!.includes('ENOSPC')));
    assert.equal(logins.length + full.dropped, 200);
    assert.equal(events.at(-1)!.event, 'recovered');
  } finally {
    // Close the file before unmounting (an open file keeps the mount busy), then clean up; a failure
    // here is reported on stderr rather than hiding the test's own error.
    await log?.close();
    try {
      execFileSync(peer('umount'), [flash]);
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      process.stderr.write(`cleanup of ${flash} failed: ${(e as Error).message}\n`);
    }
  }
});
