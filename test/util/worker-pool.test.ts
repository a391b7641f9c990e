/**
 * Work in worker threads (crypt(3) checks and hashes, the skew search): the same answers as on the
 * event loop, the event loop free while they run, a bounded queue, and nothing left waiting when the
 * threads stop.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base32Decode, hotp, randomSecret } from '../../src/twofa/otp.ts';
import { skewOf } from '../../src/twofa/verifier.ts';
import { hashPassword, sha512Crypt, verifyPassword } from '../../src/util/crypt.ts';
import { memoryLog } from '../../src/util/log.ts';
import { PoolBusy, WorkerPool } from '../../src/util/worker-pool.ts';

const HASH = hashPassword('right-pw');
const CRYPT = new URL('../../src/util/crypt.ts', import.meta.url);
const VERIFIER = new URL('../../src/twofa/verifier.ts', import.meta.url);

/** A pool and its password check, as app.ts binds them. */
function pool(size: number, maxQueued?: number, log = memoryLog()) {
  const threads = new WorkerPool(log, size, maxQueued);
  return { threads, verify: threads.bind(CRYPT, verifyPassword) };
}

test('answers as crypt(3) does: the right password, a wrong one, a hash that cannot be read', async (t) => {
  const { threads, verify } = pool(2);
  t.after(() => threads.close());
  const answers = await Promise.all([
    verify('right-pw', HASH),
    verify('wrong-pw', HASH),
    verify('right-pw', '$6$broken'),
    verify('right-pw', '$1$bJoVec4D$JwOJGPr7YqoExA0GVasdE0'),
    ...Array.from({ length: 8 }, (_, i) => verify(i % 2 ? 'right-pw' : `guess${i}`, HASH)),
  ]);
  assert.deepEqual(answers.slice(0, 4), [true, false, false, false]);
  assert.deepEqual(answers.slice(4), Array.from({ length: 8 }, (_, i) => i % 2 === 1), 'concurrent checks mixed up their answers');
});

test('the event loop keeps turning while a slow hash is checked', async (t) => {
  const { threads, verify } = pool(1);
  t.after(() => threads.close());
  // 200 000 rounds: some hundreds of milliseconds of CPU, which on the event loop would stop every timer.
  const slow = sha512Crypt('right-pw', 'saltsalt', 200_000);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const ok = await verify('right-pw', slow);
  clearInterval(timer);
  assert.equal(ok, true);
  assert.ok(ticks > 0, 'no timer fired while the hash was being checked');
});

test('a check that finds the queue full is refused at once; closing refuses the ones waiting', async () => {
  const { threads, verify } = pool(1, 2);
  const slow = sha512Crypt('pw', 'saltsalt', 100_000);
  const first = verify('pw', slow);
  const second = verify('pw', slow);
  await assert.rejects(verify('pw', slow), PoolBusy);
  assert.equal(await first, true);
  // A place is free again.
  const waiting = [assert.rejects(second, /stopped/), assert.rejects(verify('pw', slow), /stopped/)];
  await threads.close();
  await Promise.all(waiting);
  await assert.rejects(verify('pw', HASH), /stopped/);
});

test('a thread that dies refuses its tasks, is logged, and the next check gets a new one', async (t) => {
  const log = memoryLog();
  const { threads, verify } = pool(1, undefined, log);
  t.after(() => threads.close());
  const waiting = verify('pw', sha512Crypt('pw', 'saltsalt', 200_000));
  const refused = assert.rejects(waiting, /exited/);
  // What an out-of-memory or a crash in the thread would look like from here.
  await (threads as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads[0]!.worker.terminate();
  await refused;
  assert.deepEqual(log.events.map((e) => [e.event, e.fields['refused']]), [['worker-thread-failed', 1]]);
  assert.equal(await verify('right-pw', HASH), true, 'no new thread after the failure');
});

test('new passwords are hashed in a thread, and the hashes are checked as any other', async (t) => {
  const { threads, verify } = pool(2);
  t.after(() => threads.close());
  const hash = threads.bind(CRYPT, hashPassword);
  const [a, b] = await Promise.all([hash('new-pw'), hash('new-pw')]);
  assert.match(a, /^\$6\$/);
  assert.notEqual(a, b, 'two hashes of one password share a salt');
  assert.deepEqual(await Promise.all([verify('new-pw', a), verifyPassword('new-pw', b), verify('other', a)]), [true, true, false]);
});

test('the skew search finds in a thread what it finds in place, a Buffer key arriving as bytes', async (t) => {
  const { threads } = pool(1);
  t.after(() => threads.close());
  const search = threads.bind(VERIFIER, skewOf);
  const key = base32Decode(randomSecret())!;
  const tm = 60_000_000;
  // Found (at that step, or nearer when a nearer step happens to have the same code).
  for (const step of [tm - 2500, tm + 2999]) {
    const code = hotp(key, step);
    const here = skewOf(key, code, tm, 3000);
    assert.ok(here !== undefined && Math.abs(here) <= Math.abs(step - tm));
    assert.equal(await search(key, code, tm, 3000), here);
  }
  assert.equal(await search(key, hotp(key, tm + 3001), tm, 3000), skewOf(key, hotp(key, tm + 3001), tm, 3000));
});

test('a task that throws, or a name the module does not export, is refused; the thread goes on', async (t) => {
  const { threads, verify } = pool(1);
  t.after(() => threads.close());
  const throws = threads.bind(new URL('../../src/util/worker-pool.ts', import.meta.url), function PoolBusy() {});
  await assert.rejects(throws(), /cannot be invoked without 'new'/);
  const missing = threads.bind(CRYPT, function notThere() {});
  await assert.rejects(missing(), /exports no function notThere/);
  assert.equal(await verify('right-pw', HASH), true);
});
