/**
 * Group commit (SPEC §10): changes that arrive during a write share the next one, a change is written
 * at once when nothing is being written, and a failed write fails exactly its batch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from '../../src/util/group-commit.ts';

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
