/**
 * The command line end to end (SPEC §2): script mode on the console, the daemon, `connect`, the flash
 * lock, clean shutdown, and a restart that boots the saved startup config.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempFlash } from '../helpers/app.ts';
import { runAwplus, startDaemon } from '../helpers/process.ts';

test('script mode prints the transcript and exits 0; a rejected line exits 1', async () => {
  const flash = tempFlash();
  try {
    const ok = await runAwplus(['--flash', flash.dir], 'conf t\nhostname core1\nend\nsh run | include hostname\n');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(
      ok.stdout,
      [
        'awplus#conf t',
        'Enter configuration commands, one per line.  End with CNTL/Z.',
        'awplus(config)#hostname core1',
        'core1(config)#end',
        'core1#sh run | include hostname',
        'hostname core1',
        '',
      ].join('\n'),
    );
    const bad = await runAwplus(['--flash', flash.dir], 'show foo\nshow clock | include Timezone:\n');
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, ['awplus#show foo', '             ^', "% Invalid input detected at '^' marker.", 'awplus#show clock | include Timezone:', 'Timezone: UTC', ''].join('\n'));
  } finally {
    flash.cleanup();
  }
});

test('script mode: ? shows the help a terminal would and is never a value; the line runs without it', async () => {
  const flash = tempFlash();
  try {
    const r = await runAwplus(['--flash', flash.dir], 'conf t\nusername ops privilege 15 password ?\nradius-server local\nnas 10.0.0.9 key ?\nend\nshow cl?\nshow running-config\n');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /\(config\)#username ops privilege 15 password \?\n {2}PASSWORD +[^\n]*\n {2}8 +[^\n]*\n[^\n]*\(config\)#username ops privilege 15 password \n% Incomplete command\.\n/);
    assert.match(r.stdout, /\(config-radsrv\)#nas 10\.0\.0\.9 key \?\n {2}WORD +[^\n]*\n {2}8 +[^\n]*\n[^\n]*\(config-radsrv\)#nas 10\.0\.0\.9 key \n% Incomplete command\.\n/);
    assert.match(r.stdout, /#show cl\?\n {2}clock +Display the system clock\n[^\n]*#show cl\nUTC Time: /);
    // Nothing was set from a `?`.
    assert.doesNotMatch(r.stdout.slice(r.stdout.indexOf('#show running-config')), /username ops|10\.0\.0\.9/);
  } finally {
    flash.cleanup();
  }
});

test('write memory survives a restart; boot errors are reported with line numbers', async () => {
  const flash = tempFlash();
  try {
    const saved = await runAwplus(['--flash', flash.dir], 'conf t\nhostname saved1\nend\nwrite memory\n');
    assert.equal(saved.code, 0, saved.stdout + saved.stderr);
    assert.match(saved.stdout, /Building configuration...\n\[OK\]\n/);
    assert.match(readFileSync(join(flash.dir, 'default.cfg'), 'utf8'), /^hostname saved1$/m);
    const again = await runAwplus(['--flash', flash.dir], 'show running-config | include hostname\n');
    assert.match(again.stdout, /^saved1#show running-config \| include hostname\nhostname saved1\n$/);
  } finally {
    flash.cleanup();
  }
});

test('daemon: ready line, connect in script mode, second daemon refused, SIGTERM stops cleanly', async () => {
  const flash = tempFlash();
  const daemon = await startDaemon(flash.dir);
  try {
    assert.ok(existsSync(join(flash.dir, '.cli.sock')));
    const a = await runAwplus(['connect', '--flash', flash.dir], 'conf t\nhostname viaconnect\nend\n');
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.match(a.stdout, /^awplus#conf t\n/);
    // A second session sees the first one's change: one running config shared by all sessions.
    const b = await runAwplus(['connect', '--flash', flash.dir], 'show running-config | include hostname\nshow bogus\n');
    assert.equal(b.code, 1);
    assert.match(b.stdout, /^viaconnect#show running-config \| include hostname\nhostname viaconnect\nviaconnect#show bogus\n/);
    const second = await runAwplus(['--daemon', '--flash', flash.dir], '');
    assert.equal(second.code, 1);
    assert.match(second.stderr, /in use by another awplus process/);
  } finally {
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited(), 0);
    assert.ok(!existsSync(join(flash.dir, '.lock')), 'a clean shutdown releases the flash');
    assert.ok(!existsSync(join(flash.dir, '.cli.sock')), 'and removes its socket');
    flash.cleanup();
  }
});

test('connect without a daemon fails with a clear message', async () => {
  const flash = tempFlash();
  try {
    const r = await runAwplus(['connect', '--flash', flash.dir], 'show clock\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no awplus daemon is running/);
  } finally {
    flash.cleanup();
  }
});

test('reboot restarts in place: unsaved changes are gone, the rest of the script runs after it', async () => {
  const flash = tempFlash();
  try {
    const input = 'conf t\nhostname rb1\nend\nwrite\nconf t\nhostname unsaved\nend\nreboot\nn\nreboot\ny\nshow running-config | include hostname\n';
    const r = await runAwplus(['--flash', flash.dir], input);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /unsaved#reboot\nreboot system\? \(y\/n\): n\nunsaved#reboot\nreboot system\? \(y\/n\): y\nRebooting...\nrb1#show running-config \| include hostname\nhostname rb1\n$/,
    );
  } finally {
    flash.cleanup();
  }
});
