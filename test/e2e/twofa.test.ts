/**
 * 2FA state across processes: a daemon restart keeps every user and every used code, and a kill -9
 * right after an accepted code cannot make that code acceptable again (SPEC §10).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { App } from '../../src/app.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { memoryLog } from '../../src/util/log.ts';
import { tempFlash } from '../helpers/app.ts';
import { runAwplus, startDaemon, Watched } from '../helpers/process.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const codeNow = () => hotp(base32Decode(SECRET)!, timeStep(Date.now()));

test('a daemon restart keeps 2FA users, their settings and scratch codes', async () => {
  const flash = tempFlash();
  try {
    let daemon = await startDaemon(flash.dir);
    const setup = await runAwplus(
      ['connect', '--flash', flash.dir],
      `conf t\nservice 2fa\nend\nwrite memory\n2fa create user alice secret ${SECRET} hotp\n2fa create user zed skip-2fa\n2fa user alice email alice@example.com\nshow 2fa user alice\n`,
    );
    assert.equal(setup.code, 0, setup.stdout);
    const before = /Scratch codes +: ([\d ]+)\n/.exec(setup.stdout)![1];
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited(), 0);
    daemon = await startDaemon(flash.dir);
    const after = await runAwplus(['connect', '--flash', flash.dir], 'show 2fa users\nshow 2fa user alice | include Scratch\n');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited(), 0);
    assert.match(after.stdout, /alice +HOTP +5 +- +- +alice@example\.com\nzed +skip-2fa/);
    assert.match(after.stdout, new RegExp(`Scratch codes +: ${before}\n`));
  } finally {
    flash.cleanup();
  }
});

test('kill -9 right after an accepted code: after restart the same code is refused', async () => {
  const flash = tempFlash();
  try {
    const setup = await App.start({ flash: flash.dir, log: memoryLog() });
    await setup.twofa.createUser('alice', { secret: SECRET });
    await setup.stop();

    const code = codeNow();
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../helpers/verify-once.ts', import.meta.url).pathname, flash.dir, 'alice', code], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const w = new Watched(child);
    await w.waitFor(/accepted ok-totp/);
    child.kill('SIGKILL');
    await w.exited();

    const again = await App.start({ flash: flash.dir, log: memoryLog() });
    try {
      // The same code again, at the same time step: single use survived the crash.
      assert.deepEqual(await again.twofa.verify('alice', code), { ok: false, reason: 'reused' });
    } finally {
      await again.stop();
    }
  } finally {
    flash.cleanup();
  }
});
