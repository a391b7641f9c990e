/**
 * Hostile input at the CLI found by an adversarial run (issue #17): escape sequences in untrusted names
 * reaching an operator's terminal, a NUL in `awplus connect` input, and the password line of a script
 * whose command failed before asking for it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import ssh2 from 'ssh2';
import { hidePassword, encodeRequest } from '../../src/radius/crypto.ts';
import { Attr } from '../../src/radius/packet.ts';
import { lineSource, runScriptMode } from '../../src/terminal/script-mode.ts';
import { CONTROL_SOCKET, listenControlSocket } from '../../src/transports/control-socket.ts';
import { adminSession, newApp, runLines, tempFlash } from '../helpers/app.ts';
import { runAwplus, startDaemon } from '../helpers/process.ts';
import { freePort, freeUdpPort } from '../helpers/ports.ts';

/** Raw control characters a terminal would obey: C0 but TAB and LF, DEL, C1, bidi overrides. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** One SSH password login attempt with the ssh2 client; resolves to whether it got in. */
function sshLogin(port: number, username: string, password: string, localAddress = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const c = new ssh2.Client();
    const done = (ok: boolean) => {
      c.end();
      resolve(ok);
    };
    c.on('ready', () => done(true));
    c.on('error', () => done(false));
    c.connect({ host: '127.0.0.1', port, username, password, localAddress, readyTimeout: 15000, tryKeyboard: false });
  });
}

test('untrusted names reach show log and show users escaped, never as raw control characters', async () => {
  const { app, close } = await newApp();
  try {
    const port = await freePort();
    const radiusPort = await freeUdpPort();
    const setup = await runLines(
      adminSession(app),
      'conf t',
      `ssh server port ${port}`,
      'service ssh',
      'radius-server local',
      'nas 10.0.0.1 key s3cret',
      `server auth-port ${radiusPort}`,
      'server enable',
      'end',
    );
    assert.ok(!/^% /m.test(setup), setup);
    // An SSH user name that clears the screen and retitles the window; no account, so a failed login.
    const evilSsh = '\x1b[2J\x1b]0;owned\x07root';
    assert.equal(await sshLogin(port, evilSsh, 'x'), false, 'the evil SSH user logged in');
    // A RADIUS User-Name with a carriage return, a C1 CSI and a right-to-left override.
    const evilRadius = 'alice\r\u009b31m\u202eadmin';
    const authenticator = randomBytes(16);
    const key = Buffer.from('s3cret');
    const datagram = encodeRequest(1, authenticator, [
      { type: Attr.UserName, value: Buffer.from(evilRadius) },
      { type: Attr.UserPassword, value: hidePassword(Buffer.from('pw'), key, authenticator) },
    ], key);
    assert.ok(await app.radius.server.handle(datagram, { address: '10.0.0.1', port: 1 }), 'no answer to the RADIUS request');
    const log = await runLines(adminSession(app), 'show log');
    assert.ok(!RAW_CONTROL.test(log), `show log carries raw control characters: ${JSON.stringify(log)}`);
    assert.match(log, /login-failed user=\\x1b\[2J\\x1b\]0;owned\\x07root /, 'the SSH user name is not shown escaped');
    assert.match(log, /radius-auth user="alice\\r\\x9b31m\\u202eadmin" /, 'the RADIUS User-Name is not shown escaped');

    // A `connect` client names itself in its header: `show users` shows that name escaped.
    const control = await listenControlSocket(app, app.flash.dir);
    const flashSocket = netConnect(join(app.flash.dir, CONTROL_SOCKET));
    await new Promise<void>((resolve, reject) => flashSocket.once('connect', resolve).once('error', reject));
    flashSocket.write(JSON.stringify({ tty: true, columns: 80, rows: 24, user: '\x1b[31mroot\x1b[0m' }) + '\n');
    await new Promise((r) => setTimeout(r, 200));
    const users = await runLines(adminSession(app), 'show users');
    flashSocket.destroy();
    await new Promise((r) => control.close(r));
    assert.ok(!RAW_CONTROL.test(users), `show users carries raw control characters: ${JSON.stringify(users)}`);
    assert.match(users, /\\x1b\[31mroot\\x1b\[0m/, 'the connect user is not shown escaped');
  } finally {
    await close();
  }
});

test('show file of a file with escape sequences shows them escaped; the ANSI QR code keeps its colours', async () => {
  const { app, close } = await newApp({ files: { 'evil.cfg': 'hostname a\n\x1b[2J\x1b[3Jcleared\n\ttabbed\n' } });
  try {
    const shown = await runLines(adminSession(app), 'show file flash:/evil.cfg');
    assert.ok(!RAW_CONTROL.test(shown), `show file passes raw control characters: ${JSON.stringify(shown)}`);
    assert.match(shown, /\\x1b\[2J\\x1b\[3Jcleared/, 'not shown escaped');
    assert.match(shown, /\ttabbed/, 'a tab is not a control to hide');
    const qr = await runLines(adminSession(app), 'conf t', 'service 2fa', 'end', '2fa create user bob random-secret qr ansi');
    assert.match(qr, /\x1b\[(30|97);(40|107)m▀/, 'the ANSI QR code lost its colour sequences');
  } finally {
    await close();
  }
});

test('a NUL (or any control character) in connect input: the line is refused and the client sees every later line', async () => {
  const flash = tempFlash();
  const daemon = await startDaemon(flash.dir);
  try {
    const r = await runAwplus(['connect', '--flash', flash.dir], 'show clock\0\nconf t\nhostname evil\nend\nshow running-config | include hostname\n');
    assert.equal(r.code, 1, `exit status ${r.code} (the NUL line was refused): ${r.stdout}`);
    assert.ok(!r.stdout.includes('\0'), 'a raw NUL reached the client output');
    assert.match(r.stdout, /^awplus#show clock\\x00\n *\^\n% Invalid input detected at '\^' marker\.\n/m, `the NUL line is not echoed escaped and refused:\n${r.stdout}`);
    assert.match(r.stdout, /^awplus\(config\)#hostname evil\nevil\(config\)#end\n/m, `the next lines are not shown:\n${r.stdout}`);
    assert.match(r.stdout, /^evil#show running-config \| include hostname\nhostname evil\n/m, `the client does not see what the daemon ran:\n${r.stdout}`);
  } finally {
    daemon.child.kill('SIGTERM');
    await daemon.exited();
    flash.cleanup();
  }
});

/** Runs `input` in script mode on a session of `app`, as the console and `connect` do. */
async function script(app: Awaited<ReturnType<typeof newApp>>['app'], input: string): Promise<{ out: string; ok: boolean }> {
  const session = adminSession(app);
  const lines = lineSource(Readable.from([input]));
  let out = '';
  try {
    const ok = await runScriptMode(session, lines, (t) => void (out += t));
    return { out, ok };
  } finally {
    lines.close();
    session.close();
  }
}

test('the password line of an import or export that failed before asking is never run, echoed or kept in the history', async () => {
  const { app, close } = await newApp();
  try {
    const password = 'Sup3rSecret-pw';
    // Import with the service on: refused before the copy, so before the password question.
    const imp = await script(app, `conf t\nservice 2fa\nend\n2fa import user-data source flash:/nothing.dat\n${password}\nshow history\n`);
    assert.equal(imp.ok, false, 'the failed import did not fail the script');
    assert.match(imp.out, /% /, 'no error for the import');
    assert.ok(!imp.out.includes(password), `the password appears in the output:\n${imp.out}`);
    assert.match(imp.out, /awplus#show history\n(.*\n)*\s*\d+\s+2fa import user-data source flash:\/nothing\.dat\n\s*\d+\s+show history\n/, `show history did not run after the password line:\n${imp.out}`);
    // Import with the service off, of a file that does not exist: the copy fails.
    const missing = await script(app, `conf t\nno service 2fa\nend\n2fa import user-data source flash:/nothing.dat\n${password}\nshow history\n`);
    assert.match(missing.out, /nothing\.dat/, `no copy error:\n${missing.out}`);
    assert.ok(!missing.out.includes(password), `the password appears in the output:\n${missing.out}`);
    // Export with the service off: refused before both password questions; both lines are skipped.
    const exp = await script(app, `2fa export user-data\n${password}\n${password}\nshow history\n`);
    assert.match(exp.out, /% The 2FA service is not enabled/, `no refusal:\n${exp.out}`);
    assert.ok(!exp.out.includes(password), `the password appears in the output:\n${exp.out}`);
    assert.match(exp.out, /#show history\n/, `show history did not run:\n${exp.out}`);
    // A short first password: the confirmation line is skipped too.
    const short = await script(app, `conf t\nservice 2fa\nend\n2fa export user-data\nshort\n${password}\nshow history\n`);
    assert.match(short.out, /% /, `no refusal of the short password:\n${short.out}`);
    assert.ok(!short.out.includes(password), `the confirmation appears in the output:\n${short.out}`);
    for (const r of [imp, missing, exp, short]) assert.ok(!/^\s*\d*\s*Sup3rSecret/m.test(r.out), 'a password in show history');
    // An import that asks: its password is read as the answer, as before.
    const ok = await script(app, `conf t\nservice 2fa\nend\n2fa create user carol random-secret\n2fa export user-data\n${password}\n${password}\nshow history\n`);
    assert.match(ok.out, /Successfully exported 2FA user data \(1 users\)/, `the export did not work:\n${ok.out}`);
    assert.ok(!ok.out.includes(password), `the password appears in the output:\n${ok.out}`);
  } finally {
    await close();
  }
});
