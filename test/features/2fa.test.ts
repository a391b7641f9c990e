/**
 * 2FA commands whose output is random (secrets, scratch codes): `2fa create user` and `show 2fa user`
 * agree with the store; the otpauth URL is encoded as libpam does; the terminal QR codes decode (with
 * zbarimg, a real QR reader) to exactly that URL.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { otpauthUrl, renderQr } from '../../src/twofa/enrolment.ts';
import type { TwoFaUser } from '../../src/twofa/types.ts';
import { adminSession, newApp, runLines } from '../helpers/app.ts';
import { peer } from '../helpers/peers.ts';


test('2fa create user prints the secret, the URL and 5 scratch codes that show 2fa user repeats', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'service 2fa', 'hostname gw1', 'end');
    const out = await runLines(s, '2fa create user alice random-secret');
    const m = /^Created 2FA user alice \(TOTP\)\nSecret key : ([A-Z2-7]{32})\nOTP URL    : (otpauth:\/\/totp\/alice@gw1\?secret=\1)\nScratch codes \(each can be used once\):\n((?: {2}[1-9]\d{7}\n){5})$/.exec(out);
    assert.ok(m, out);
    const scratch = m[3]!.trim().split(/\s+/);
    const stored = (await env.app.twofa.get('alice'))!;
    assert.equal(stored.secret, m[1]);
    assert.deepEqual([...stored.scratch], scratch);
    const shown = await runLines(s, 'show 2fa user alice');
    assert.match(shown, new RegExp(`Scratch codes +: ${scratch.join(' ')}\\n`));
    assert.match(shown, new RegExp(`OTP URL +: ${m[2]!.replace(/[?]/g, '\\?')}\\n`));
    const hotp = await runLines(s, '2fa create user bob random-secret hotp');
    assert.match(hotp, /Created 2FA user bob \(HOTP\)\n.*\nOTP URL    : otpauth:\/\/hotp\/bob@gw1\?secret=/);
    assert.match(await runLines(s, 'show 2fa user bob'), /HOTP counter +: 1\n/);
  } finally {
    await env.close();
  }
});

test('otpauth URLs are percent-encoded as libpam does (space → %20, @ and : literal, UTF-8 byte-wise)', () => {
  const user = { name: 'userA', kind: 'totp', secret: 'JBSWY3DPEHPK3PXP' } as TwoFaUser;
  assert.equal(otpauthUrl(user, { label: 'My VPN', issuer: 'My Company' }), 'otpauth://totp/userA@My%20VPN?secret=JBSWY3DPEHPK3PXP&issuer=My%20Company');
  assert.equal(otpauthUrl(user, { label: 'gw:1', issuer: undefined }), 'otpauth://totp/userA@gw:1?secret=JBSWY3DPEHPK3PXP');
  assert.equal(otpauthUrl(user, { label: '拠点', issuer: 'a&b=c?' }), 'otpauth://totp/userA@%E6%8B%A0%E7%82%B9?secret=JBSWY3DPEHPK3PXP&issuer=a%26b%3Dc%3F');
});

/** Turns half-block lines back into pixels (light = 255), 4 pixels per module, and writes a PGM image. */
function toPgm(lines: string[], file: string, light: (ch: string, top: boolean) => boolean): void {
  const scale = 4;
  const width = [...lines[0]!].length;
  const rows: number[][] = [];
  for (const line of lines) {
    const chars = [...line];
    for (const top of [true, false]) rows.push(chars.map((ch) => (light(ch, top) ? 255 : 0)));
  }
  const pixels: number[] = [];
  for (const row of rows) for (let r = 0; r < scale; r++) for (const v of row) for (let c = 0; c < scale; c++) pixels.push(v);
  writeFileSync(file, Buffer.concat([Buffer.from(`P5 ${width * scale} ${rows.length * scale} 255\n`), Buffer.from(pixels)]));
}

test('terminal QR codes (utf8 and ansi) decode to the otpauth URL with a real QR reader, and fit 80 columns', async () => {
  const env = await newApp();
  try {
    const url = 'otpauth://totp/alice@My%20VPN?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=My%20Company';
    const lightModules = (ch: string, top: boolean) => ch === '█' || (top ? ch === '▀' : ch === '▄');
    // utf8 draws the light modules: █ both light, ▀ top light, ▄ bottom light.
    const utf8 = renderQr(url, 'utf8');
    // ansi: ▀ with foreground = top module, background = bottom module; 97/107 white, 30/40 black.
    const ansi = renderQr(url, 'ansi').map((l) =>
      [...l.matchAll(/\x1b\[(\d+);(\d+)m▀/g)].map(([, fg, bg]) => (fg === '97' ? (bg === '107' ? '█' : '▀') : bg === '107' ? '▄' : ' ')).join(''),
    );
    for (const [name, lines] of [['utf8', utf8], ['ansi', ansi]] as const) {
      assert.ok(lines.every((l) => [...l].length <= 80), `${name} fits 80 columns`);
      const file = join(env.dir, `${name}.pgm`);
      toPgm(lines, file, lightModules);
      // zbarimg comes from Debian zbar-tools (.ci/run installs it).
      assert.equal(execFileSync(peer('zbarimg'), ['-q', '--raw', file]).toString().trim(), url, name);
    }
  } finally {
    await env.close();
  }
});

test('show log lists 2FA decisions with their reasons and never a secret, code or scratch code', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'service 2fa', 'end');
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    await runLines(s, `2fa create user alice secret ${secret}`);
    const user = (await env.app.twofa.get('alice'))!;
    const { hotp, timeStep, base32Decode } = await import('../../src/twofa/otp.ts');
    const code = hotp(base32Decode(secret)!, timeStep(env.app.clock.now()));
    assert.equal((await env.app.twofa.verify('alice', code)).ok, true);
    assert.equal((await env.app.twofa.verify('alice', code)).reason, 'reused');
    assert.equal((await env.app.twofa.verify('alice', user.scratch[0]!)).reason, 'ok-scratch');
    const log = await runLines(s, 'show log');
    assert.match(log, /info  2fa-verify user=alice result=accept reason=ok-totp\n/);
    assert.match(log, /info  2fa-verify user=alice result=reject reason=reused\n/);
    assert.match(log, /info  2fa-verify user=alice result=accept reason=ok-scratch\n/);
    assert.equal((await runLines(s, 'show log tail')).trimEnd().split('\n').length, Math.min(10, log.trimEnd().split('\n').length));
    const everything = JSON.stringify(env.log.events);
    for (const secretThing of [secret, code, ...user.scratch]) assert.ok(!everything.includes(secretThing) && !log.includes(secretThing), secretThing);
  } finally {
    await env.close();
  }
});
