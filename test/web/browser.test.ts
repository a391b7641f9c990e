/**
 * The self-registration page in a real browser (issue 14): Debian chromium driven by puppeteer-core on
 * a 360x800 phone viewport over HTTPS on 127.0.0.1. The QR code is read back from a screenshot with
 * zbarimg (Debian zbar-tools), so the code a phone camera sees is the backend's otpauth URL.
 * Screenshots are kept in test-artifacts/web/ (git-ignored) for a reviewer.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { ApplianceClock } from '../../src/util/clock.ts';
import { LOGIN_FAILED } from '../../src/web/pages/login-form.ts';
import { groupSecret } from '../../src/web/pages/registered.ts';
import { artifactsDir, launchChromium, layout, phone as phoneAt, readQr, requireBrowserTools, submit } from './browser.ts';
import { MemoryBackend, startPage } from './fixture.ts';

describe('self-registration page in Chromium at 360x800', { timeout: 120_000 }, () => {
  const clock = new ApplianceClock();
  const backend = new MemoryBackend(clock, { alice: 'alice-pw', bob: 'bob-pw' });
  let started: Awaited<ReturnType<typeof startPage>> | undefined;
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let browser: Browser | undefined;
  let url = '';
  let ARTIFACTS = '';

  before(async () => {
    requireBrowserTools();
    ARTIFACTS = artifactsDir('web');
    started = await startPage(clock, backend);
    url = `https://127.0.0.1:${started.port}/2fa-registration`;
    chromium = await launchChromium();
    browser = chromium.browser;
  });

  after(async () => {
    try {
      await chromium?.close();
    } finally {
      await started?.page.close();
    }
  });

  const phone = (): Promise<{ context: BrowserContext; page: Page; problems: string[] }> => phoneAt(browser!, `https://127.0.0.1:${started!.port}`);

  test('the form fits a 360 px phone: no sideways scrolling, touch targets of 44 px or more, system fonts', async () => {
    const { context, page, problems } = await phone();
    try {
      const response = await page.goto(url, { waitUntil: 'load' });
      assert.equal(response?.status(), 200);
      assert.equal(await page.$eval('h1', (e) => e.textContent), 'Two-factor registration');
      assert.deepEqual(await page.$$eval('label', (ls) => ls.map((l) => l.textContent)), ['Username', 'Password']);
      assert.equal(await page.$eval('button[type="submit"]', (e) => e.textContent), 'Login');
      const l = await layout(page);
      assert.ok(l.scrollWidth <= 360, `scrollWidth ${l.scrollWidth}`);
      assert.ok(l.widest <= 360, `an element reaches ${l.widest} px`);
      assert.equal(l.controls.length, 3);
      for (const h of l.controls) assert.ok(h >= 44, `a control is ${h} px high`);
      // 16 px or more in inputs: phones zoom into smaller ones when they get focus.
      for (const px of l.inputFontPx) assert.ok(px >= 16, `input text ${px} px`);
      assert.ok(l.bodyFontPx >= 16);
      assert.match(l.fontFamily, /^system-ui/);
      await page.screenshot({ path: join(ARTIFACTS, '1-form.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('a wrong password shows the one generic message and keeps the user name', async () => {
    const { context, page, problems } = await phone();
    try {
      await page.goto(url, { waitUntil: 'load' });
      const response = await submit(page, 'alice', 'not-her-password');
      assert.equal(response.status(), 200);
      assert.equal(await page.$eval('.error', (e) => e.textContent), LOGIN_FAILED);
      assert.equal(await page.$eval('#username', (e) => (e as HTMLInputElement).value), 'alice');
      assert.equal(await page.$eval('#password', (e) => (e as HTMLInputElement).value), '');
      assert.ok((await layout(page)).scrollWidth <= 360);
      await page.screenshot({ path: join(ARTIFACTS, '2-wrong-password.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('a registration: the QR code on screen decodes to the otpauth URL; key, link and 5 codes shown', async () => {
    const { context, page, problems } = await phone();
    try {
      await page.goto(url, { waitUntil: 'load' });
      const response = await submit(page, 'alice', 'alice-pw');
      assert.equal(response.status(), 200);
      const issued = backend.issued.get('alice');
      assert.ok(issued, 'the backend registered alice');
      assert.equal(await readQr(page, join(ARTIFACTS, '3-qr.png')), issued.otpauthUrl);
      assert.equal(await page.$eval('.secret code', (e) => e.textContent), groupSecret(issued.secret));
      assert.equal(await page.$eval('a.button', (e) => e.getAttribute('href')), issued.otpauthUrl);
      assert.deepEqual(await page.$$eval('.codes code', (cs) => cs.map((c) => c.textContent)), [...issued.scratchCodes]);
      assert.match(await page.$eval('main', (e) => e.textContent ?? ''), /Store these backup codes somewhere safe/);
      const l = await layout(page);
      assert.ok(l.scrollWidth <= 360, `scrollWidth ${l.scrollWidth}`);
      assert.ok(l.widest <= 360, `an element reaches ${l.widest} px`);
      for (const h of l.controls) assert.ok(h >= 44, `a control is ${h} px high`);
      await page.screenshot({ path: join(ARTIFACTS, '4-registered.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('a second registration of the same user is refused without a new key', async () => {
    const { context, page, problems } = await phone();
    try {
      const before = backend.issued.get('alice');
      await page.goto(url, { waitUntil: 'load' });
      const response = await submit(page, 'alice', 'alice-pw');
      assert.equal(response.status(), 409);
      assert.equal(await page.$eval('h1', (e) => e.textContent), 'Already registered');
      assert.equal(await page.$('svg'), null);
      assert.equal(backend.issued.get('alice'), before);
      await page.screenshot({ path: join(ARTIFACTS, '5-already-registered.png'), fullPage: true });
      assert.deepEqual(problems.filter((p) => !/status of 409/.test(p)), []);
    } finally {
      await context.close();
    }
  });

  test('a form without its CSRF token is refused', async () => {
    const { context, page } = await phone();
    try {
      await page.goto(url, { waitUntil: 'load' });
      const calls = backend.calls;
      await page.evaluate(() => document.querySelector('input[name="csrf"]')!.remove());
      const response = await submit(page, 'bob', 'bob-pw');
      assert.equal(response.status(), 403);
      assert.match(await page.$eval('main', (e) => e.textContent ?? ''), /This form has expired or did not come from this page/);
      assert.equal(backend.calls, calls, 'the password never reached the backend');
      assert.equal(backend.issued.has('bob'), false);
      await page.screenshot({ path: join(ARTIFACTS, '6-csrf-refused.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
