/**
 * What an AW+ administrator hits on day one (issue #12), through the CLI: script mode of the real
 * command, sessions, and the terminal adapter.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runInteractive } from '../../src/terminal/bind.ts';
import { LineEditor } from '../../src/terminal/line-editor.ts';
import { adminSession, newApp, runLines, tempFlash } from '../helpers/app.ts';
import { runAwplus } from '../helpers/process.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test('no service 2fa keeps every 2FA setting through write memory and reboot; service 2fa brings them back', async () => {
  const flash = tempFlash();
  try {
    const settings = ['2fa reject-unconfigured-users', '2fa totp-window-size 5', '2fa skew-adjust', '2fa issuer My Company', '2fa label My VPN', '2fa lockout failures 3 period 600'];
    const first = await runAwplus(['--flash', flash.dir], ['conf t', 'service 2fa', ...settings, 'no service 2fa', 'end', 'write memory', 'reboot', 'y', 'show running-config 2fa', 'conf t', 'service 2fa', 'end', 'show 2fa', ''].join('\n'));
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const afterReboot = first.stdout.split('Rebooting...')[1]!;
    assert.ok(afterReboot.includes(['service 2fa', ...settings, 'no service 2fa'].join('\n')), afterReboot);
    assert.match(afterReboot, /Reject unconfigured users +: Yes\n/);
    assert.match(afterReboot, /TOTP window size +: 5\n/);
    assert.match(afterReboot, /Issuer +: My Company\n/);
    assert.match(afterReboot, /Lockout +: 3 failures in 600 seconds\n/);
  } finally {
    flash.cleanup();
  }
});

test('a saved config pastes back: `conf t` + default.cfg runs without an error, ! lines and comments included', async () => {
  const flash = tempFlash();
  try {
    const setup = await runAwplus(['--flash', flash.dir], ['conf t', 'hostname edge1', 'service 2fa', '2fa totp-window-size 5', 'radius-server local', 'nas 10.0.0.1 key s3cret 2fa', 'server enable', 'end', 'write memory', ''].join('\n'));
    assert.equal(setup.code, 0, setup.stdout);
    const saved = readFileSync(join(flash.dir, 'default.cfg'), 'utf8');
    // The same appliance from factory defaults (sealed keys open only where they were sealed).
    rmSync(join(flash.dir, 'default.cfg'));
    const pasted = await runAwplus(['--flash', flash.dir], `conf t\n${saved}! a comment of my own\n  ! an indented one\nshow running-config\n`);
    assert.equal(pasted.code, 0, pasted.stdout);
    assert.doesNotMatch(pasted.stdout, /^%/m);
    assert.ok(pasted.stdout.endsWith(`#show running-config\n${saved}`), pasted.stdout);
  } finally {
    flash.cleanup();
  }
});

test('the manual’s (config)# 2fa create user, and global commands from a sub-mode walk up to config', async () => {
  const flash = tempFlash();
  try {
    const r = await runAwplus(['--flash', flash.dir], ['conf t', 'service 2fa', '2fa create user userZ skip-2fa', 'radius-server local', 'hostname edge2', 'radius-server local', 'nas 10.0.0.1 key k', 'exit', 'show 2fa users', 'end', 'show 2fa users', ''].join('\n'));
    assert.equal(r.code, 1, 'one line (show in config mode) was rejected');
    assert.match(r.stdout, /awplus\(config\)#2fa create user userZ skip-2fa\nCreated 2FA user userZ \(skip-2fa\)\n/);
    assert.match(r.stdout, /awplus\(config-radsrv\)#hostname edge2\nedge2\(config\)#radius-server local\nedge2\(config-radsrv\)#nas 10\.0\.0\.1 key k\n/);
    assert.match(r.stdout, /edge2\(config\)#show 2fa users\n +\^\n% Invalid input/, 'show is not a config command');
    assert.match(r.stdout, /edge2#show 2fa users\n.*\n.*\nuserZ +skip-2fa/);
  } finally {
    flash.cleanup();
  }
});

test('a long command shows Copying... at once and Ctrl-C aborts it, with nothing changed', async () => {
  // An HTTP server that accepts and never answers.
  const hung = createServer(() => {});
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
  const port = (hung.address() as { port: number }).port;
  const env = await newApp();
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  output.on('data', (d: Buffer) => (screen += d.toString('utf8').replace(/\r\n/g, '\n').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')));
  const editor = new LineEditor({ input, output });
  const session = adminSession(env.app);
  const loop = runInteractive(editor, session);
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(screen); i++) await new Promise((r) => setTimeout(r, 25));
    assert.match(screen, re);
  };
  try {
    const before = JSON.stringify(await env.app.twofa.list());
    const started = Date.now();
    input.write(`2fa import user-data source http://127.0.0.1:${port}/users.dat\r`);
    await waitFor(/Copying\.\.\.\n$/);
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(screen, /%/, 'still waiting for the server');
    input.write('\x03');
    await waitFor(/\^C\n% Interrupted; nothing was changed\nawplus#$/);
    assert.ok(Date.now() - started < 5000, 'aborted at once, not after the 10 s timeout');
    assert.equal(JSON.stringify(await env.app.twofa.list()), before);
    input.end();
    await loop;
  } finally {
    editor.close();
    hung.closeAllConnections();
    hung.close();
    await env.close();
  }
});

test('RADIUS keys are sealed like the SMTP password; another appliance refuses them; plain again with no service password-encryption', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'radius-server host 192.0.2.1 key upstreamkey', 'radius-server local', 'nas 10.0.0.1 key naskey 2fa', 'end');
    const sealed = await runLines(s, 'show running-config radius');
    assert.match(sealed, /^radius-server host 192\.0\.2\.1 key 8 \S+$/m);
    assert.match(sealed, /^ nas 10\.0\.0\.1 key 8 \S+ 2fa$/m);
    assert.doesNotMatch(sealed, /upstreamkey|naskey/);
    const other = await newApp();
    try {
      const refused = await runLines(adminSession(other.app), 'conf t', ...sealed.split('\n').filter((l) => / key 8 /.test(l) || l === 'radius-server local'));
      assert.equal(refused.match(/% Cannot decrypt the password: it was encrypted on another appliance; enter it again/g)?.length, 2);
    } finally {
      await other.close();
    }
    await runLines(s, 'conf t', 'no service password-encryption', 'end');
    const plain = await runLines(s, 'show running-config radius');
    assert.match(plain, /key upstreamkey/);
    assert.match(plain, /nas 10\.0\.0\.1 key naskey 2fa/);
  } finally {
    await env.close();
  }
});

test('clear 2fa lockout lets a locked user in at once and is audit-logged; show 2fa users marks locked users', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'service 2fa', '2fa lockout failures 2 period 600', 'end', `2fa create user alice secret ${SECRET}`);
    for (let i = 0; i < 2; i++) await env.app.twofa.verify('alice', '000000');
    assert.match(await runLines(s, 'show 2fa users'), /^alice +TOTP +5 +0 +yes +-$/m);
    assert.equal((await env.app.twofa.verify('alice', '000000')).reason, 'locked-out');
    assert.equal(await runLines(s, 'clear 2fa lockout alice'), '');
    assert.match(await runLines(s, 'show 2fa users'), /^alice +TOTP +5 +0 +- +-$/m);
    assert.equal((await env.app.twofa.verify('alice', '000000')).reason, 'bad-code', 'checked again, not locked out');
    assert.match(await runLines(s, 'show log | include lockout-cleared'), /2fa-lockout-cleared user=alice by=manager wasLocked=true/);
    assert.equal(await runLines(s, 'clear 2fa lockout nobody'), '% 2FA user nobody does not exist\n');
  } finally {
    await env.close();
  }
});

test('show radius local-server nas and user list names and settings, never keys or hashes', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'radius-server local', 'nas 10.0.0.1 key secret1 2fa', 'nas 10.0.0.2 key secret2 require-message-authenticator', 'user alice password alicepw', 'user bob password bobpw', 'end');
    const out = await runLines(s, 'show radius local-server nas', 'show radius local-server user');
    assert.match(out, /^10\.0\.0\.1 +2fa \(code, then password\) +checked if present$/m);
    assert.match(out, /^10\.0\.0\.2 +password \(local users\) +required$/m);
    assert.match(out, /^alice$\n^bob$/m);
    assert.doesNotMatch(out, /secret1|secret2|\$6\$/);
  } finally {
    await env.close();
  }
});

test('limits with clear errors: a 65-character issuer, an export password under 8 characters', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    const out = await runLines(s, 'conf t', 'service 2fa', `2fa issuer ${'x'.repeat(65)}`, `2fa label ${'y'.repeat(64)}`, 'end');
    assert.match(out, /% The issuer must be at most 64 characters\n/);
    assert.doesNotMatch(out, /label must/);
    s.setHost({ ask: async () => 'short' });
    assert.equal(await runLines(s, '2fa export user-data'), '% The password must be at least 8 characters; nothing was exported\n');
    assert.deepEqual(env.app.flash.list().filter((f) => f.name.endsWith('.dat')), []);
  } finally {
    await env.close();
  }
});

test('a value typed in double quotes is the text inside: the issuer in the otpauth URL, a key with spaces across write and reboot', async () => {
  const env = await newApp();
  try {
    let s = adminSession(env.app);
    const out = await runLines(s, 'conf t', 'no service password-encryption', 'service 2fa', '2fa issuer "Acme Corp"', 'radius-server local', 'nas 10.0.0.2 key "two words"', 'end', '2fa create user alice random-secret', 'write memory');
    assert.match(out, /otpauth:\/\/totp\/alice@\S+\?secret=[A-Z2-7]+&issuer=Acme%20Corp\n/);
    assert.match(await runLines(s, 'show 2fa | include Issuer'), /Issuer +: Acme Corp\n/);
    assert.deepEqual((await env.app.reboot()).errors, []);
    s = adminSession(env.app);
    assert.match(await runLines(s, 'show running-config'), /\n2fa issuer Acme Corp\n[^]*\n nas 10\.0\.0\.2 key "two words"\n/);
  } finally {
    await env.close();
  }
});

test('exec-timeout lives under line con 0 and line vty, rendered there; the old global form still boots', async () => {
  const env = await newApp({ files: { 'default.cfg': 'exec-timeout 30\n' } });
  try {
    assert.deepEqual(env.report.errors, []);
    const s = adminSession(env.app);
    const out = await runLines(s, 'show running-config line', 'conf t', 'line con 0', 'exec-timeout 5', 'line vty 0 4', 'exec-timeout 0 30', 'end', 'show running-config line', 'show ssh server | include Idle');
    assert.match(out, /^!\nline vty 0 32\n exec-timeout 30\n!\nend\n/);
    assert.match(out, /!\nline con 0\n exec-timeout 5\n!\nline vty 0 4\n exec-timeout 0 30\n!\nend\n/);
    assert.match(out, /Idle timeout \(line vty\) : 0 minutes 30 seconds/);
  } finally {
    await env.close();
  }
});
