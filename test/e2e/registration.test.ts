/**
 * Self-registration through the real appliance (issue 14): the `awplus` daemon boots a startup config
 * with the page on and local RADIUS users; Debian chromium (puppeteer-core) at 360x800 opens
 * https://127.0.0.1:PORT/2fa-registration, logs in as a local RADIUS user and gets a QR code, which
 * zbarimg (Debian zbar-tools) decodes from a screenshot; then radclient (Debian freeradius-utils), as
 * the NAS, logs in over RADIUS with SCRV1 and a TOTP code computed from the decoded secret. Also in the
 * browser: a wrong password, a second registration, a form without its CSRF token, and a registration
 * again after `2fa delete user`. `show 2fa self-registration` counts them; the daemon's audit log
 * holds no password, secret or scratch code. Screenshots: test-artifacts/e2e-registration/.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { LOGIN_FAILED } from '../../src/web/pages/login-form.ts';
import { tempFlash } from '../helpers/app.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { requireBinary } from '../helpers/peers.ts';
import { runAwplus, startDaemon, type Watched } from '../helpers/process.ts';
import { radclient } from '../helpers/radclient.ts';
import { artifactsDir, launchChromium, phone, readQr, requireBrowserTools, submit } from '../web/browser.ts';
import { freePort, servedFingerprint } from '../web/fixture.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('self-registration in a real browser, then a RADIUS login with the code from the QR code', { timeout: 120_000 }, async () => {
  // Every peer first, so a missing one fails at once with its Debian package's name.
  requireBrowserTools();
  requireBinary('radclient', 'freeradius-utils');
  const ARTIFACTS = artifactsDir('e2e-registration');
  const flash = tempFlash();
  const [pagePort, radiusPort] = [await freePort(), await freeUdpPort()];
  writeFileSync(
    join(flash.dir, 'default.cfg'),
    [
      'service 2fa',
      '2fa issuer Example Corp',
      '2fa label VPN',
      `2fa self-registration port ${pagePort}`,
      // The manual's setup: group radius, whose host is this appliance's own local server (its users).
      `radius-server host 127.0.0.1 auth-port ${radiusPort} key nassecret`,
      'radius-server local',
      ` server auth-port ${radiusPort}`,
      ' nas 127.0.0.1 key nassecret 2fa',
      ' user alice password alice-pw',
      ' user bob password bob-pw',
      ' server enable',
      'aaa authentication 2fa-registration default group radius',
      '',
    ].join('\n'),
  );
  /** `awplus connect` in script mode; exit status 1 when a line was rejected. */
  const cli = async (...lines: string[]) => {
    const r = await runAwplus(['connect', '--flash', flash.dir], lines.join('\n') + '\n');
    assert.ok(r.code === 0 || r.code === 1, r.stdout + r.stderr);
    return r.stdout;
  };
  const shown = async () => Object.fromEntries([...(await cli('show 2fa self-registration')).matchAll(/^(\S[^:\n]*?) +: (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const radius = (password: string) => radclient([`User-Name = "alice"`, `User-Password = "${password}"`], { server: `127.0.0.1:${radiusPort}`, secret: 'nassecret' });
  const totp = (secret: string) => hotp(base32Decode(secret)!, timeStep(Date.now()));

  let daemon: Watched | undefined;
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    daemon = await startDaemon(flash.dir);
    chromium = await launchChromium();
    const origin = `https://127.0.0.1:${pagePort}`;
    const url = `${origin}/2fa-registration`;
    const visit = async (name: string, work: (p: Awaited<ReturnType<typeof phone>>['page']) => Promise<void>) => {
      const { context, page, problems } = await phone(chromium!.browser, origin);
      try {
        await page.goto(url, { waitUntil: 'load' });
        await work(page);
        await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
        // The browser logs a failed status (the 403 and 409 pages) as a console error; nothing else may appear.
        assert.deepEqual(problems.filter((p) => !/status of 40[39]/.test(p)), [], name);
      } finally {
        await context.close();
      }
    };

    // A wrong password: the one generic message.
    await visit('1-wrong-password', async (page) => {
      assert.equal((await submit(page, 'alice', 'not-alice-pw')).status(), 200);
      assert.equal(await page.$eval('.error', (e) => e.textContent), LOGIN_FAILED);
    });

    // The registration: the QR code on screen is the otpauth URL with the configured issuer and label.
    let secret = '';
    let scratch: string[] = [];
    await visit('2-registered', async (page) => {
      assert.equal((await submit(page, 'alice', 'alice-pw')).status(), 200);
      const decoded = await readQr(page, join(ARTIFACTS, '2-qr.png'));
      const m = /^otpauth:\/\/totp\/alice@VPN\?secret=([A-Z2-7]{32})&issuer=Example%20Corp$/.exec(decoded);
      assert.ok(m, decoded);
      secret = m[1]!;
      scratch = await page.$$eval('.codes code', (cs) => cs.map((c) => c.textContent ?? ''));
      assert.equal(scratch.length, 5);
    });

    // Over RADIUS, as an OpenVPN client with static-challenge sends it: a wrong code is refused (so the
    // accept below is the second factor's, not a first-factor-only login), the code from the QR is accepted once.
    assert.equal((await radius(`SCRV1:${b64('alice-pw')}:${b64('000000')}`)).kind, 'reject');
    const code = totp(secret);
    assert.equal((await radius(`SCRV1:${b64('alice-pw')}:${b64(code)}`)).kind, 'accept');
    assert.equal((await radius(`SCRV1:${b64('alice-pw')}:${b64(code)}`)).kind, 'reject', 'single use');

    // A second registration: refused, and the secret stays what the phone has.
    await visit('3-already-registered', async (page) => {
      assert.equal((await submit(page, 'alice', 'alice-pw')).status(), 409);
      assert.equal(await page.$eval('h1', (e) => e.textContent), 'Already registered');
      assert.equal(await page.$('svg'), null);
    });
    assert.match(await cli('show 2fa user alice'), new RegExp(`^Secret key +: ${secret}$`, 'm'));

    // A form without its CSRF token: refused before the password is looked at.
    await visit('4-csrf-refused', async (page) => {
      await page.evaluate(() => document.querySelector('input[name="csrf"]')!.remove());
      assert.equal((await submit(page, 'bob', 'bob-pw')).status(), 403);
    });
    assert.match(await cli('show 2fa user bob'), /^% 2FA user bob does not exist$/m);

    const s = await shown();
    assert.equal(s['State'], `Listening on TCP port ${pagePort}`);
    assert.equal(s['First factor'], 'group radius');
    assert.equal(s['Certificate SHA-256'], await servedFingerprint(pagePort), 'show names the certificate the browser was given');
    assert.deepEqual(
      [s['Registrations'], s['Failed logins'], s['Already registered'], s['Forms refused (CSRF)'], s['Refused, locked out']],
      ['1', '1', '1', '1', '0'],
    );

    // An administrator deletes the user: a new registration, a new secret.
    assert.doesNotMatch(await cli('2fa delete user alice'), /%/);
    await visit('5-registered-again', async (page) => {
      assert.equal((await submit(page, 'alice', 'alice-pw')).status(), 200);
      const again = /secret=([A-Z2-7]{32})/.exec(await readQr(page, join(ARTIFACTS, '5-qr.png')))?.[1];
      assert.ok(again && again !== secret, 'a new secret');
    });
    assert.equal((await shown())['Registrations'], '2');

    // The audit trail (the daemon's stderr) names users, never their passwords, secrets or codes.
    assert.match(daemon.out, /"event":"web-registration-ok".*"user":"alice"/);
    for (const text of ['alice-pw', 'not-alice-pw', 'bob-pw', secret, code, ...scratch]) assert.ok(!daemon.out.includes(text), `the log holds ${text}`);
  } finally {
    try {
      await chromium?.close();
    } finally {
      if (daemon) {
        daemon.child.kill('SIGTERM');
        // exited() sends SIGKILL when SIGTERM does not end it in time.
        await daemon.exited(10_000);
      }
      flash.cleanup();
    }
  }
});
