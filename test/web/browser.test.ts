/**
 * The self-registration page in a real browser (issue 14): Debian chromium driven by puppeteer-core on
 * a 360x800 phone viewport over HTTPS on 127.0.0.1. The QR code is read back from a screenshot with
 * zbarimg (Debian zbar-tools), so the code a phone camera sees is the backend's otpauth URL.
 * Screenshots are kept in test-artifacts/web/ (git-ignored) for a reviewer.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser, type BrowserContext, type HTTPResponse, type Page } from 'puppeteer-core';
import { ApplianceClock } from '../../src/util/clock.ts';
import { LOGIN_FAILED } from '../../src/web/pages/login-form.ts';
import { groupSecret } from '../../src/web/pages/registered.ts';
import { MemoryBackend, startPage } from './fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/web/', import.meta.url).pathname;
/** Every wait in this file is bounded by this or less. */
const STEP_MS = 15_000;

/** Fails at once, naming the Debian package, when a tool this test needs is missing. */
function requireTools(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install the Debian package chromium (apt-get install -y chromium)`);
  const zbar = spawnSync('zbarimg', ['--version'], { timeout: 5000 });
  if (zbar.error) throw new Error(`zbarimg not found (${zbar.error.message}): install the Debian package zbar-tools (apt-get install -y zbar-tools)`);
}

/** The text zbarimg reads from a PNG (its exit status 4 means it found no code). */
function decodeQr(png: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('zbarimg', ['--raw', '-q', png], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`zbarimg ${png}: ${error.message} ${stderr}`));
      else resolve(stdout.replace(/\n$/, ''));
    });
  });
}

/** Rejects after `ms` (browser calls that must not hang a test run). */
function bounded<T>(what: string, p: Promise<T>, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

describe('self-registration page in Chromium at 360x800', { timeout: 120_000 }, () => {
  const clock = new ApplianceClock();
  const backend = new MemoryBackend(clock, { alice: 'alice-pw', bob: 'bob-pw' });
  let started: Awaited<ReturnType<typeof startPage>> | undefined;
  let browser: Browser | undefined;
  let userDataDir: string | undefined;
  let url = '';

  before(async () => {
    requireTools();
    mkdirSync(ARTIFACTS, { recursive: true });
    started = await startPage(clock, backend);
    url = `https://127.0.0.1:${started.port}/2fa-registration`;
    userDataDir = mkdtempSync(join(tmpdir(), 'awplus-chromium-'));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      // headless: true makes puppeteer pass --headless=new.
      headless: true,
      userDataDir,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      // The page's certificate is self-signed, as on a fresh appliance.
      acceptInsecureCerts: true,
      timeout: STEP_MS,
      protocolTimeout: STEP_MS,
    });
  });

  after(async () => {
    try {
      if (browser) await bounded('browser.close', browser.close(), 10_000).catch(() => browser?.process()?.kill('SIGKILL'));
    } finally {
      await started?.page.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    }
  });

  /** A fresh browser profile context (its own cookies) with a phone-sized page. */
  async function phone(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser!.createBrowserContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.setDefaultNavigationTimeout(STEP_MS);
    await page.setViewport({ width: 360, height: 800, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    const problems: string[] = [];
    // A CSP violation means the page needs something its policy forbids (inline style, a foreign resource).
    await page.evaluateOnNewDocument(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon/.test(m.location().url ?? '')) problems.push(m.text());
    });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(`https://127.0.0.1:${started!.port}/`)) problems.push(`request elsewhere: ${r.url()}`);
    });
    return { context, page, problems };
  }

  async function submit(page: Page, user: string, password: string): Promise<HTTPResponse> {
    await page.type('#username', user);
    await page.type('#password', password);
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.tap('button[type="submit"]')]);
    assert.ok(response, 'the form led to a page');
    return response;
  }

  /**
   * Layout facts a phone user notices. No named inner functions: tsx wraps them in a helper
   * (`__name`) that does not exist in the browser.
   */
  const layout = (page: Page) =>
    page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      fontFamily: getComputedStyle(document.body).fontFamily,
      bodyFontPx: parseFloat(getComputedStyle(document.body).fontSize),
      inputFontPx: Array.from(document.querySelectorAll('input:not([type=hidden])'), (e) => parseFloat(getComputedStyle(e).fontSize)),
      controls: Array.from(document.querySelectorAll('input:not([type=hidden]), button, a.button'), (e) => e.getBoundingClientRect().height),
      widest: Math.max(...Array.from(document.querySelectorAll('body *'), (e) => e.getBoundingClientRect().right)),
    }));

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
      const svg = await page.$('.qr svg');
      assert.ok(svg, 'the QR code is an inline <svg>');
      const box = await svg.boundingBox();
      assert.ok(box && box.width >= 240 && box.height >= 240, `QR code ${box?.width}x${box?.height} px`);
      const png = join(ARTIFACTS, '3-qr.png');
      await svg.screenshot({ path: png });
      assert.equal(await bounded('zbarimg', decodeQr(png)), issued.otpauthUrl);
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
