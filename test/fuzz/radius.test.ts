/**
 * The short RADIUS fuzz run (`npm run fuzz` sends 1 000 000): 20 000 mutated and random datagrams at a
 * real daemon on 127.0.0.1, a fifth of them accounting (`server acct-port`), judged as fuzz/radius.ts
 * describes (SPEC §18).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzRadius } from '../../fuzz/radius.ts';

test('20 000 fuzzed datagrams: no crash, no error, no answer that should not exist, bounded memory', async () => {
  const f = await fuzzRadius({ datagrams: 20_000 });
  process.stdout.write(`# fuzz: ${f.datagrams} datagrams in ${f.seconds.toFixed(1)} s (seed ${f.seed}), ${f.replies} replies (${f.accountingReplies} Accounting-Responses to ${f.accountingDatagrams} accounting datagrams), daemon counted ${f.daemonCounted}, RSS ${f.rssBeforeKb} -> ${f.rssAfterKb} kB\n`);
  assert.equal(f.crashed, false, `the daemon crashed (seed ${f.seed})`);
  assert.deepEqual(f.errors, [], `error lines in the daemon log (seed ${f.seed})`);
  assert.equal(f.forbiddenReplies, 0, `answers to an unknown client, a bad Message-Authenticator or Request Authenticator, or an Accounting-Request to discard (seed ${f.seed})`);
  assert.equal(f.badReplies, 0, `answers that do not verify (seed ${f.seed})`);
  assert.equal(f.probesUnanswered, 0, `liveness probes unanswered (seed ${f.seed})`);
  assert.ok(Object.values(f.classes).every((n) => n > 0), `a mutation class never ran: ${JSON.stringify(f.classes)}`);
  assert.ok(f.replies > 1000, `only ${f.replies} replies: the fuzzer hardly reaches the decision`);
  assert.ok(f.accountingReplies > 300, `only ${f.accountingReplies} Accounting-Responses: the fuzzer hardly reaches the accounting record`);
  // Both ports' counts: most datagrams reach the daemon (UDP may drop a few under the burst); a big gap means the run is
  // measuring the kernel's buffers, not the daemon.
  assert.ok(f.daemonCounted >= f.datagrams * 0.9, `the daemon counted ${f.daemonCounted} of ${f.datagrams}`);
  assert.ok(f.rssAfterKb - f.rssBeforeKb < 64 * 1024, `RSS grew from ${f.rssBeforeKb} to ${f.rssAfterKb} kB`);
});
