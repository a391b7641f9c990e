/**
 * Group commit (SPEC §10): changes that arrive during a write share the next one, a lone change is
 * written at once, a busy appliance's next batch waits COMMIT_DELAY_MS for more (the clock is node:test's
 * mock, so nothing here depends on this machine's speed), and a failed write fails exactly its batch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUSY_BATCH, COMMIT_DELAY_MS, GroupCommit } from '../../src/util/group-commit.ts';

/** A write that holds each batch until the test releases it, and remembers what each carried. */
function heldWrites() {
  const batches: number[][] = [];
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const commits = new GroupCommit<number>((items) => {
    batches.push([...items]);
    return new Promise((resolve, reject) => pending.push({ resolve, reject }));
  });
  /** Lets the oldest held write finish (or fail), then lets the promises settle. */
  const release = async (error?: Error) => {
    const w = pending.shift();
    assert.ok(w, 'no write is being held');
    if (error) w.reject(error);
    else w.resolve();
    await settle();
  };
  return { commits, batches, pending, release };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

test('changes that arrive while a batch is written share the next batch, and each waits for its own', async () => {
  const { commits, batches, release } = heldWrites();
  const done: number[] = [];
  const add = (n: number) => commits.add([n, n + 100]).then(() => done.push(n));
  const first = add(1);
  await settle();
  assert.deepEqual(batches, [[1, 101]], 'a lone change is written at once');
  const next = [add(2), add(3)];
  await settle();
  assert.equal(batches.length, 1, 'nothing is written while the first batch is');
  assert.deepEqual(done, []);
  await release();
  await first;
  assert.deepEqual(done, [1], 'the later changes are not acknowledged with the first batch');
  assert.deepEqual(batches[1], [2, 102, 3, 103], 'the two later changes were written together');
  await release();
  await Promise.all(next);
  assert.deepEqual(done, [1, 2, 3]);
  assert.deepEqual(commits.stats, { batches: 2, changes: 3 });
  await commits.settled();
});

test('after a busy batch the next one waits a moment for more changes; after a quiet one it does not', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { commits, batches, release } = heldWrites();
  void commits.add([0]);
  await settle();
  const busy = Array.from({ length: BUSY_BATCH }, (_, i) => commits.add([i + 1]));
  await settle();
  await release(); // the lone first change: the busy ones go next, at once (the batch before was quiet)
  assert.equal(batches.length, 2);
  assert.equal(batches[1]!.length, BUSY_BATCH);
  const later = [commits.add([10]), commits.add([11])];
  await release();
  await Promise.all(busy);
  assert.equal(batches.length, 2, `after ${BUSY_BATCH} changes in one batch the next one waits`);
  const latecomer = commits.add([12]);
  t.mock.timers.tick(COMMIT_DELAY_MS);
  await settle();
  assert.deepEqual(batches[2], [10, 11, 12], 'what arrived during the wait went into the same batch');
  await release();
  await Promise.all([...later, latecomer]);
  // That batch carried fewer than BUSY_BATCH: the next change is written at once again.
  void commits.add([13]);
  await settle();
  assert.deepEqual(batches[3], [13]);
  await release();
  await commits.settled();
});

test('a failed write rejects its own batch with its error, and the next batch is written', async () => {
  const { commits, batches, release } = heldWrites();
  const first = commits.add([1]);
  await settle();
  const second = commits.add([2]);
  const failure = new Error('No space left on device');
  const rejected = assert.rejects(first, (e) => e === failure);
  await release(failure);
  await rejected;
  assert.deepEqual(batches[1], [2], 'the change queued behind the failed batch is written in its own');
  await release();
  await second;
  assert.deepEqual(commits.stats, { batches: 1, changes: 1 }, 'a failed batch is not counted as written');
  await commits.settled();
});
