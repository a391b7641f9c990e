/**
 * What an AW+ administrator hits on day one (issue #12), through RADIUS over UDP with radclient as the
 * NAS and the CLI: a rejected login leaves no trace of success, IPv6 NAS entries, user names as NAS
 * send them, and listeners that start on the startup config's final settings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { adminSession, newApp, runLines, T0 } from '../helpers/app.ts';
import { radclient } from '../helpers/radclient.ts';

const BASE = 23000 + (process.pid % 3000);
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const code = (step = 0) => hotp(base32Decode(SECRET)!, timeStep(T0) + step);
const scrv1 = (password: string, c: string) => `SCRV1:${b64(password)}:${b64(c)}`;

test('a wrong password with a valid code or scratch code is rejected and spends nothing: show 2fa user and show 2fa say so', async () => {
  const PORT = BASE;
  const env = await newApp();
  const s = adminSession(env.app);
  const login = (user: string, password: string) =>
    radclient([`User-Name = "${user}"`, `User-Password = "${password}"`], { server: `127.0.0.1:${PORT}`, secret: 'nassecret' });
  try {
    const setup = await runLines(s, 'conf t', 'service 2fa', 'radius-server local', `server auth-port ${PORT}`, 'nas 127.0.0.1 key nassecret 2fa', 'user alice password alicepw', 'server enable', 'end', `2fa create user alice secret ${SECRET}`);
    assert.doesNotMatch(setup, /^%/m);
    const scratch = (await env.app.twofa.get('alice'))!.scratch[0]!;

    assert.equal((await login('alice', scrv1('WRONG', code()))).kind, 'reject');
    assert.equal((await login('alice', scrv1('WRONG', scratch))).kind, 'reject');
    let shown = await runLines(s, 'show 2fa user alice', 'show 2fa');
    assert.match(shown, /Last login +: Never\n/);
    assert.match(shown, new RegExp(`Scratch codes +: .*${scratch}`), 'the scratch code is still there');
    assert.match(shown, /Codes accepted +: 0\n/);
    assert.match(shown, /Codes rejected +: 2\n/);
    assert.match(shown, /Scratch codes used +: 0\n/);

    // The retries with the right password use the same code and the same scratch code.
    assert.equal((await login('alice', scrv1('alicepw', code()))).kind, 'accept');
    assert.equal((await login('alice', scrv1('alicepw', scratch))).kind, 'accept');
    shown = await runLines(s, 'show 2fa user alice', 'show 2fa', 'show log | include radius-auth');
    assert.match(shown, /Last login +: Sun, 03 Mar 2024 12:00:00 UTC\n/);
    assert.doesNotMatch(shown, new RegExp(`Scratch codes +: .*${scratch}`));
    assert.match(shown, /Codes accepted +: 2\n/);
    assert.match(shown, /Scratch codes used +: 1\n/);
    assert.match(shown, /result=reject reason=first-factor-reject[\s\S]*result=reject reason=first-factor-reject[\s\S]*result=accept reason=ok-totp[\s\S]*result=accept reason=ok-scratch/);
  } finally {
    await env.close();
  }
});

test('IPv6: a NAS on ::1 is answered on a dual-stack socket, IPv4 NAS entries still are; the key is sealed', async () => {
  const PORT = BASE + 1;
  const env = await newApp();
  const s = adminSession(env.app);
  try {
    const setup = await runLines(s, 'conf t', 'service 2fa', 'radius-server local', `server auth-port ${PORT}`,
      'nas 0:0:0:0:0:0:0:1 key v6secret 2fa only', 'nas 127.0.0.1 key v4secret 2fa only', 'server enable', 'end', `2fa create user alice secret ${SECRET}`);
    assert.doesNotMatch(setup, /^%/m);
    const v6 = await radclient(['User-Name = "alice"', `User-Password = "${code()}"`], { server: `[::1]:${PORT}`, secret: 'v6secret' });
    assert.equal(v6.kind, 'accept', v6.out);
    const v4 = await radclient(['User-Name = "alice"', `User-Password = "${code(1)}"`], { server: `127.0.0.1:${PORT}`, secret: 'v4secret' });
    assert.equal(v4.kind, 'accept', v4.out);
    const shown = await runLines(s, 'show running-config radius', 'show radius local-server nas');
    assert.match(shown, / nas ::1 key 8 \S+ 2fa only\n/, 'canonical IPv6, key sealed');
    assert.doesNotMatch(shown, /v6secret|v4secret/);
    assert.match(shown, /::1 +2fa only \(the code alone\) +checked if present/);
  } finally {
    await env.close();
  }
});

test('user names as NAS send them: DOMAIN\\bob and bob@example.com log in and list correctly', async () => {
  const PORT = BASE + 2;
  const env = await newApp();
  const s = adminSession(env.app);
  try {
    const setup = await runLines(s, 'conf t', 'service 2fa', 'radius-server local', `server auth-port ${PORT}`, 'nas 127.0.0.1 key nassecret 2fa only', 'server enable', 'end',
      `2fa create user DOMAIN\\bob secret ${SECRET}`, `2fa create user bob@example.com secret ${SECRET} hotp`);
    assert.doesNotMatch(setup, /^%/m);
    // radclient reads "\\" inside a quoted string as one backslash.
    const domain = await radclient(['User-Name = "DOMAIN\\\\bob"', `User-Password = "${code()}"`], { server: `127.0.0.1:${PORT}`, secret: 'nassecret' });
    assert.equal(domain.kind, 'accept', domain.out);
    const mail = await radclient(['User-Name = "bob@example.com"', `User-Password = "${hotp(base32Decode(SECRET)!, 1)}"`], { server: `127.0.0.1:${PORT}`, secret: 'nassecret' });
    assert.equal(mail.kind, 'accept', mail.out);
    const shown = await runLines(s, 'show 2fa users', 'show 2fa user DOMAIN\\bob | include URL', 'show 2fa user bob@example.com | include URL');
    assert.match(shown, /^DOMAIN\\bob +TOTP /m);
    assert.match(shown, /^bob@example\.com +HOTP /m);
    assert.match(shown, /otpauth:\/\/totp\/DOMAIN%5Cbob@awplus\?secret=/);
    // HOTP URIs carry the counter the Key Uri Format requires: the app increments before it generates.
    assert.match(shown, /otpauth:\/\/hotp\/bob@example\.com@awplus\?secret=\w+&counter=1\n/);
  } finally {
    await env.close();
  }
});

test('a startup config that says server enable before server auth-port listens once, on the final port', async () => {
  const PORT = BASE + 3;
  const cfg = ['radius-server local', ' server enable', ` server auth-port ${PORT}`, ' nas 127.0.0.1 key nassecret', ' user carol password carolpw', 'ssh server port 1', 'service ssh', `ssh server port ${PORT + 1}`, 'end', ''].join('\n');
  const env = await newApp({ files: { 'default.cfg': cfg } });
  try {
    assert.deepEqual(env.report.errors, []);
    const listening = env.log.events.filter((e) => e.event.endsWith('-listening')).map((e) => `${e.event} ${e.fields['port']}`);
    assert.deepEqual(listening, [`ssh-listening ${PORT + 1}`, `radius-listening ${PORT}`]);
    const r = await radclient(['User-Name = "carol"', 'User-Password = "carolpw"'], { server: `127.0.0.1:${PORT}`, secret: 'nassecret' });
    assert.equal(r.kind, 'accept', r.out);
  } finally {
    await env.close();
  }
});
