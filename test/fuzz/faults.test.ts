/**
 * Faults under login load (SPEC §10, §18; issue #17), against real daemons:
 * - kill -9 at random moments, 3 times here (`npm run fuzz` does 20): no accepted code accepted again,
 *   no user lost, no HOTP counter behind an accepted code, each restart timed;
 * - a full flash (a tmpfs filled while logins run): no Accept without its mark on disk, the service
 *   recovers when space returns, without a restart;
 * - a flash or store that cannot be written or opened, and the store's own log on a small flash.
 * The flash tests mount a tmpfs: they need root (CI runs as root) and are skipped with a message
 * otherwise.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FuzzDaemon } from '../../fuzz/daemon.ts';
import { loginsThroughTrouble, SmallFlash } from '../../fuzz/flash.ts';
import { killUnderLoad } from '../../fuzz/kills.ts';
import { createUsers, faultConfig, NAS_KEY, newUsers, runLoad } from '../../fuzz/logins.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { runAwplus } from '../helpers/process.ts';
import { RadiusProbe } from '../helpers/radius-probe.ts';

const ROOT = process.getuid?.() === 0 ? false : 'needs root to mount a small tmpfs as the flash (CI runs as root): skipped';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A stack trace line on stderr (an operator should get one clear line instead). */
const STACK = /\n\s+at \S/;

test('kill -9 at random moments under login load, 3 times: no code accepted twice, no user lost', async () => {
  const k = await killUnderLoad({ kills: 3, users: 4, maxLoadMs: 700 });
  process.stdout.write(`# kills: ${k.kills}, accepted ${k.accepted}, replayed ${k.replayed}, accepted again ${k.acceptedAgain.length}, restarts ${k.restartMs.map((t) => t.toFixed(0)).join('/')} ms\n`);
  assert.ok(k.accepted > 100, `only ${k.accepted} codes accepted: no load`);
  assert.deepEqual(k.acceptedAgain, [], 'codes accepted again after a kill -9');
  assert.deepEqual(k.usersLost, [], 'users lost');
  assert.deepEqual(k.countersBehind, [], 'HOTP counters behind an accepted code: the acceptance was not on disk');
  assert.equal(k.unanswered, 0, 'replays unanswered');
  assert.deepEqual(k.errors, [], 'error lines in the daemon log');
});

test('a full flash under login load: no Accept without its mark on disk; logins resume when space returns', { skip: ROOT }, async () => {
  const fl = new SmallFlash('64m');
  try {
    const t = await loginsThroughTrouble(fl, { start: () => fl.fill(), end: () => fl.unfill() });
    process.stdout.write(`# full flash: accepted ${t.acceptedBefore} before, ${t.acceptedDuring} while full, ${t.acceptedAfter} after; replayed ${t.replayed}, accepted again ${t.acceptedAgain}\n`);
    assert.ok(t.acceptedBefore > 50, 'no load before the flash filled');
    assert.equal(t.acceptedAgain, 0, 'a code accepted while the flash was full was accepted again after a crash: its mark was not on disk');
    assert.deepEqual(t.usersLost, [], 'users lost');
    assert.deepEqual(t.countersBehind, [], 'HOTP counters behind an accepted code');
    assert.ok(t.acceptedAfter > 50, `only ${t.acceptedAfter} logins after space returned: the service did not recover`);
    const unexpected = t.errors.filter((e) => !/"event":"2fa-store-write-failed".*No space left on device/.test(e));
    assert.deepEqual(unexpected, [], 'error lines other than the failed writes');
  } finally {
    fl.dispose();
  }
});

/** A daemon with `users` on a tmpfs flash of `size`. */
async function onSmallFlash(size: string, users = 4) {
  const fl = new SmallFlash(size);
  const port = await freeUdpPort();
  writeFileSync(join(fl.dir, 'default.cfg'), faultConfig(port));
  const { daemon } = await FuzzDaemon.start(fl.dir);
  const list = newUsers(users);
  await createUsers(daemon, list);
  return { fl, port, daemon, users: list };
}

test('2fa create user on a full flash: a clear % message, and no user in memory or after a restart', { skip: ROOT }, async () => {
  const { fl, daemon } = await onSmallFlash('64m', 1);
  let d = daemon;
  try {
    fl.fill();
    // Writes until the store's log has no room left in its last page either; then the create.
    const out = await d.cli(...Array.from({ length: 40 }, () => '2fa reset scratch-codes load0'), '2fa create user victim random-secret');
    const create = out.slice(out.lastIndexOf('#2fa create user victim'));
    assert.match(create, /^% /m, `the create did not fail:\n${create}`);
    assert.doesNotMatch(create, /% Internal error/, 'an I/O error shown as an internal error');
    assert.doesNotMatch(create, /Secret key/, 'a secret shown for a user that was not stored');
    assert.doesNotMatch(await d.cli('show 2fa users'), /victim/, 'the failed user is listed');
    fl.unfill();
    await d.stop();
    ({ daemon: d } = await FuzzDaemon.start(fl.dir));
    assert.doesNotMatch(await d.cli('show 2fa users'), /victim/, 'the failed user exists after a restart');
  } finally {
    await d.stop();
    fl.dispose();
  }
});

test('a store that cannot be opened (full flash, read-only flash): one clear line, no stack trace', { skip: ROOT }, async () => {
  const { fl, daemon } = await onSmallFlash('64m', 1);
  try {
    await daemon.stop();
    fl.fill();
    const full = await runAwplus(['--daemon', '--flash', fl.dir], '', 20000);
    fl.unfill();
    fl.readOnly(true);
    const ro = await runAwplus(['--daemon', '--flash', fl.dir], '', 20000);
    fl.readOnly(false);
    for (const [what, r, why] of [['full', full, /no space|ENOSPC/i], ['read-only', ro, /read-only|EROFS/i]] as const) {
      assert.equal(r.code, 1, `${what}: exit status ${r.code}`);
      assert.doesNotMatch(r.stderr, STACK, `${what}: a stack trace:\n${r.stderr}`);
      assert.match(r.stderr, /^awplus: .+/m, `${what}: no one-line error:\n${r.stderr}`);
      assert.match(r.stderr, why, `${what}: the underlying error is not named:\n${r.stderr}`);
    }
  } finally {
    fl.dispose();
  }
});

test('the store\'s own log on a small flash: logins go on (it is compacted)', { skip: ROOT }, async () => {
  const { fl, port, daemon, users } = await onSmallFlash('4m', 4);
  const probe = await RadiusProbe.open(port, NAS_KEY);
  try {
    // 15 000 accepted logins write far more than 4 MiB of records: only compaction keeps them in it.
    const load = runLoad(probe, users, () => daemon.alive);
    let last = 0;
    let stalled = false;
    for (let s = 0; s < 10 && load.accepted() < 15_000; s++) {
      await sleep(1000);
      if (load.accepted() === last) stalled = true;
      last = load.accepted();
    }
    await load.stop();
    assert.equal(stalled, false, `logins stopped after ${last} accepted, with ${(fl.free() / 1024).toFixed(0)} KiB free`);
    assert.ok(last >= 15_000, `only ${last} logins in 10 s`);
  } finally {
    probe.close();
    await daemon.stop();
    fl.dispose();
  }
});

test('show system says how much flash is used and left, the user store included', { skip: ROOT }, async () => {
  const { fl, port, daemon, users } = await onSmallFlash('64m', 4);
  const probe = await RadiusProbe.open(port, NAS_KEY);
  try {
    const load = runLoad(probe, users, () => daemon.alive);
    await sleep(2000);
    await load.stop();
    const line = (await daemon.cli('show system')).split('\n').find((l) => l.startsWith('Flash:'));
    const m = /Flash: ([\d.]+)MB Used: ([\d.]+)MB Available: ([\d.]+)MB/.exec(line ?? '');
    assert.ok(m, `no Flash line: ${line}`);
    const MB = 1048576;
    const [used, available] = [Number(m[2]) * MB, Number(m[3]) * MB];
    assert.ok(Math.abs(available - fl.free()) <= 0.1 * MB, `Available ${m[3]}MB, but ${(fl.free() / MB).toFixed(1)}MB are free`);
    assert.ok(Math.abs(used - fl.used()) <= 0.1 * MB + 0.05 * fl.used(), `Used ${m[2]}MB, but the flash holds ${(fl.used() / MB).toFixed(1)}MB (the store included)`);
  } finally {
    probe.close();
    await daemon.stop();
    fl.dispose();
  }
});
