/**
 * The console and `connect` on a real pseudo-terminal (util-linux `script` allocates it): login
 * prompt, wrong password, `?` without Enter, TAB, Ctrl-Z, `exit` back to the login prompt, Ctrl-D
 * to leave; `connect` interactive against a daemon, listed by `show users`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { tempFlash } from '../helpers/app.ts';
import { awplusArgv, startDaemon, Watched } from '../helpers/process.ts';
import { peer } from '../helpers/peers.ts';

/** Runs `awplus ARGS` on a pty of 100x30. */
function onPty(args: string[]): Watched {
  const command = `stty cols 100 rows 30; exec ${process.execPath} ${awplusArgv(args).join(' ')}`;
  const child = spawn(peer('script'), ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Watched(child);
}

/** Sends keys once `pattern` shows up after the last mark. */
async function expectThen(w: Watched, pattern: RegExp, keys: string): Promise<void> {
  const from = mark.get(w) ?? 0;
  const m = await w.waitFor(pattern, 15000, from);
  // The next wait starts right after this match: output that arrived with it is still to be seen.
  mark.set(w, from + m.index! + m[0].length);
  w.child.stdin.write(keys);
}
const mark = new WeakMap<Watched, number>();

test('console on a TTY: login, ? help, TAB, Ctrl-Z, exit back to login, Ctrl-D leaves', async () => {
  const flash = tempFlash();
  const w = onPty(['--flash', flash.dir]);
  try {
    await expectThen(w, /awplus login: $/, 'manager\r');
    await expectThen(w, /Password: $/, 'wrong\r');
    await expectThen(w, /Login incorrect\n/, '');
    await expectThen(w, /awplus login: $/, 'manager\r');
    await expectThen(w, /Password: $/, 'friend\r');
    await expectThen(w, /awplus>$/, 'en\r');
    await expectThen(w, /awplus#$/, 'conf\t');
    await expectThen(w, /configure $/, 't\r');
    await expectThen(w, /awplus\(config\)#$/, 'host?');
    await expectThen(w, /hostname\s+Set system's network name\n.*awplus\(config\)#host$/s, 'name tty1\r');
    await expectThen(w, /tty1\(config\)#$/, '\x1a');
    await expectThen(w, /\^Z\n.*tty1#$/s, 'exit\r');
    // line con 0 exec-timeout: an idle console goes back to the login prompt (here after 1 second).
    await expectThen(w, /tty1 login: $/, 'manager\r');
    await expectThen(w, /Password: $/, 'friend\r');
    await expectThen(w, /tty1>$/, 'en\rconf t\rline con 0\rexec-timeout 0 1\rend\r');
    await expectThen(w, /tty1#$/, '');
    await expectThen(w, /% Session closed: idle for longer than exec-timeout\n/, '');
    await expectThen(w, /tty1 login: $/, '\x04');
    assert.equal(await w.exited(), 0);
    assert.ok(!w.out.includes('friend'), 'the password is never echoed');
  } finally {
    w.child.kill('SIGKILL');
    flash.cleanup();
  }
});

test('connect on a TTY: interactive session on the daemon, seen by show users', async () => {
  const flash = tempFlash();
  const daemon = await startDaemon(flash.dir);
  const w = onPty(['connect', '--flash', flash.dir]);
  try {
    await expectThen(w, /awplus#$/, 'show users\r');
    await expectThen(w, /\*  vty 0 .*local\n.*awplus#$/s, 'show ver?');
    await expectThen(w, /version\s+Display the software version\n.*awplus#show ver$/s, '\r');
    await expectThen(w, /AlliedWare Plus/, 'exit\r');
    assert.equal(await w.exited(), 0);
  } finally {
    w.child.kill('SIGKILL');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited(), 0);
    flash.cleanup();
  }
});
