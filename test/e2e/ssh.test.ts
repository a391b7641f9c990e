/**
 * SSH with the real OpenSSH client (issue #5) on 127.0.0.1: exec with exit status, wrong password,
 * allow-users, an interactive shell on a pty (`?`, TAB, privilege 1 at `>`), a change seen from a second
 * concurrent session, `show users` addresses, disabling the service keeps open sessions, repeated
 * failures throttled, and the host key surviving a restart. Passwords reach ssh through SSH_ASKPASS.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempFlash } from '../helpers/app.ts';
import { runAwplus, startDaemon, Watched } from '../helpers/process.ts';
import { peer } from '../helpers/peers.ts';

const PORT = 22000 + (process.pid % 1000);
const SSH_OPTS = ['-p', String(PORT), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'NumberOfPasswordPrompts=1', '-o', 'PreferredAuthentications=password'];

/** An askpass program that prints `password`, so ssh needs no terminal for it. */
function askpass(dir: string, password: string): NodeJS.ProcessEnv {
  const file = join(dir, `askpass-${password}.sh`);
  writeFileSync(file, `#!/bin/sh\necho '${password}'\n`);
  chmodSync(file, 0o700);
  return { ...process.env, SSH_ASKPASS: file, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: '' };
}

/** `ssh user@127.0.0.1 COMMAND` (exec); bounded by ssh's own timeouts and ours. */
function sshExec(dir: string, user: string, password: string, command: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(peer('setsid'), [peer('ssh'), ...SSH_OPTS, '-o', 'ConnectTimeout=10', `${user}@127.0.0.1`, command], {
    env: askpass(dir, password),
    input: '',
    timeout: 20000,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An interactive `ssh -tt` on a pty (util-linux `script`), password through askpass. */
function sshShell(dir: string, user: string, password: string): Watched {
  const cmd = ['ssh', '-tt', ...SSH_OPTS, `${user}@127.0.0.1`].join(' ');
  const child = spawn(peer('script'), ['-qfec', `stty cols 100 rows 40; exec ${peer('setsid')} -w ${cmd}`, '/dev/null'], { env: askpass(dir, password), stdio: ['pipe', 'pipe', 'pipe'] });
  return new Watched(child);
}

async function until(w: Watched, pattern: RegExp, from: number): Promise<number> {
  const m = await w.waitFor(pattern, 15000, from);
  return from + m.index! + m[0].length;
}

test('SSH end to end with OpenSSH', async () => {
  const flash = tempFlash();
  let daemon = await startDaemon(flash.dir);
  const shells: Watched[] = [];
  try {
    const setup = await runAwplus(
      ['connect', '--flash', flash.dir],
      `conf t\nusername op password oppass\nssh server port ${PORT}\nservice ssh\nend\nwrite memory\nshow ssh server | include Host key\n`,
    );
    assert.equal(setup.code, 0, setup.stdout);
    const keys = setup.stdout.split('\n').filter((l) => l.startsWith('  Host key'));
    assert.equal(keys.length, 2);

    // exec: one command, its output and exit status 0/1; the caret counts from column 0.
    const ok = sshExec(flash.dir, 'manager', 'friend', 'show users');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /\* {2}vty \d +manager +\S+ +127\.0\.0\.1\n/);
    const bad = sshExec(flash.dir, 'manager', 'friend', 'show bogus');
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, "       ^\n% Invalid input detected at '^' marker.\n"); // under the g: 'bo' starts boot

    // Wrong password: refused, and logged without the password.
    const wrong = sshExec(flash.dir, 'manager', 'nope', 'show users');
    assert.equal(wrong.status, 255);
    assert.match(wrong.stderr, /Permission denied/);

    // Interactive: privilege 15 at #, immediate ?, TAB; a privilege-1 user at >.
    const a = sshShell(flash.dir, 'manager', 'friend');
    shells.push(a);
    let at = await until(a, /awplus#$/, 0);
    a.child.stdin.write('show ver?');
    at = await until(a, /version\s+Display the software version\n[^\n]*awplus#show ver$/, at);
    a.child.stdin.write('\x15conf\t');
    at = await until(a, /configure $/, at);
    a.child.stdin.write('t\rhostname viassh\r');
    at = await until(a, /viassh\(config\)#$/, at);

    // A second, concurrent session sees the change at once; show users lists both with their address.
    const seen = sshExec(flash.dir, 'manager', 'friend', 'show running-config | include hostname');
    assert.equal(seen.stdout, 'hostname viassh\n');
    const op = sshShell(flash.dir, 'op', 'oppass');
    shells.push(op);
    let opAt = await until(op, /viassh>$/, 0);
    op.child.stdin.write('show users\r');
    opAt = await until(op, /vty \d +op +\S+ +127\.0\.0\.1\n.*viassh>$/s, opAt);

    // allow-users: only op may log in now; manager is refused.
    a.child.stdin.write('ssh server allow-users op\r');
    at = await until(a, /viassh\(config\)#$/, at);
    assert.equal(sshExec(flash.dir, 'manager', 'friend', 'show users').status, 255);
    assert.equal(sshExec(flash.dir, 'op', 'oppass', 'show clock').status, 0);
    a.child.stdin.write('no ssh server allow-users op\r');
    at = await until(a, /viassh\(config\)#$/, at);

    // Disabling the service closes the listener, not the open sessions.
    a.child.stdin.write('no service ssh\r');
    at = await until(a, /viassh\(config\)#$/, at);
    assert.equal(sshExec(flash.dir, 'manager', 'friend', 'show users').status, 255);
    a.child.stdin.write('do show ssh server | include Listening\r');
    at = await until(a, /Listening +: No\n/, at);
    a.child.stdin.write('service ssh\rend\rexit\r');
    assert.equal(await a.exited(), 0);
    op.child.stdin.write('exit\r');
    assert.equal(await op.exited(), 0);

    // line vty exec-timeout: an idle shell is closed with a message (here after 2 seconds).
    assert.equal((await runAwplus(['connect', '--flash', flash.dir], 'conf t\nline vty 0 4\nexec-timeout 0 2\nend\n')).code, 0);
    const idle = sshShell(flash.dir, 'manager', 'friend');
    shells.push(idle);
    const idleAt = await until(idle, /viassh#$/, 0);
    await until(idle, /% Session closed: idle for longer than exec-timeout/, idleAt);
    assert.equal(await idle.exited(), 0);
    assert.equal((await runAwplus(['connect', '--flash', flash.dir], 'conf t\nline vty 0 4\nno exec-timeout\nend\n')).code, 0);

    // Repeated failures from one address are throttled: then even the right password is refused.
    for (let i = 0; i < 5; i++) assert.equal(sshExec(flash.dir, 'op', `wrong${i}`, 'show clock').status, 255);
    assert.equal(sshExec(flash.dir, 'op', 'oppass', 'show clock').status, 255);
    const log = await runAwplus(['connect', '--flash', flash.dir], 'show log | include login-failed\n');
    assert.match(log.stdout, /login-failed user=op via=ssh address=127\.0\.0\.1 reason=throttled/);
    assert.ok(!log.stdout.includes('oppass') && !log.stdout.includes('wrong1'), 'passwords never reach the log');

    // The host keys survive a restart.
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited(), 0);
    daemon = await startDaemon(flash.dir);
    const again = await runAwplus(['connect', '--flash', flash.dir], 'show ssh server | include Host key\n');
    assert.deepEqual(again.stdout.split('\n').filter((l) => l.startsWith('  Host key')), keys);
  } finally {
    for (const s of shells) s.child.kill('SIGKILL');
    daemon.child.kill('SIGTERM');
    await daemon.exited();
    flash.cleanup();
  }
});
