/**
 * crypt(3) checks in worker threads: the same answers as on the event loop, the event loop free while
 * they run, a bounded queue, and nothing left waiting when the threads stop.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, sha512Crypt } from '../../src/util/crypt.ts';
import { CryptBusy, CryptWorkers } from '../../src/util/crypt-workers.ts';
import { memoryLog } from '../../src/util/log.ts';

const HASH = hashPassword('right-pw');

test('answers as crypt(3) does: the right password, a wrong one, a hash that cannot be read', async (t) => {
  const workers = new CryptWorkers(memoryLog(), 2);
  t.after(() => workers.close());
  const answers = await Promise.all([
    workers.verify('right-pw', HASH),
    workers.verify('wrong-pw', HASH),
    workers.verify('right-pw', '$6$broken'),
    workers.verify('right-pw', '$1$bJoVec4D$JwOJGPr7YqoExA0GVasdE0'),
    ...Array.from({ length: 8 }, (_, i) => workers.verify(i % 2 ? 'right-pw' : `guess${i}`, HASH)),
  ]);
  assert.deepEqual(answers.slice(0, 4), [true, false, false, false]);
  assert.deepEqual(answers.slice(4), Array.from({ length: 8 }, (_, i) => i % 2 === 1), 'concurrent checks mixed up their answers');
});

test('the event loop keeps turning while a slow hash is checked', async (t) => {
  const workers = new CryptWorkers(memoryLog(), 1);
  t.after(() => workers.close());
  // 200 000 rounds: some hundreds of milliseconds of CPU, which on the event loop would stop every timer.
  const slow = sha512Crypt('right-pw', 'saltsalt', 200_000);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const ok = await workers.verify('right-pw', slow);
  clearInterval(timer);
  assert.equal(ok, true);
  assert.ok(ticks > 0, 'no timer fired while the hash was being checked');
});

test('a check that finds the queue full is refused at once; closing refuses the ones waiting', async () => {
  const workers = new CryptWorkers(memoryLog(), 1, 2);
  const slow = sha512Crypt('pw', 'saltsalt', 100_000);
  const first = workers.verify('pw', slow);
  const second = workers.verify('pw', slow);
  await assert.rejects(workers.verify('pw', slow), CryptBusy);
  assert.equal(await first, true);
  // A place is free again.
  const waiting = [assert.rejects(second, /stopped/), assert.rejects(workers.verify('pw', slow), /stopped/)];
  await workers.close();
  await Promise.all(waiting);
  await assert.rejects(workers.verify('pw', HASH), /stopped/);
});

test('a thread that dies refuses its checks, is logged, and the next check gets a new one', async (t) => {
  const log = memoryLog();
  const workers = new CryptWorkers(log, 1);
  t.after(() => workers.close());
  const waiting = workers.verify('pw', sha512Crypt('pw', 'saltsalt', 200_000));
  const refused = assert.rejects(waiting, /exited/);
  // What an out-of-memory or a crash in the thread would look like from here.
  await (workers as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads[0]!.worker.terminate();
  await refused;
  assert.deepEqual(log.events.map((e) => [e.event, e.fields['refused']]), [['password-check-failed', 1]]);
  assert.equal(await workers.verify('right-pw', HASH), true, 'no new thread after the failure');
});
