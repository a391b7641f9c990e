/**
 * The real browser the page's tests drive: Debian chromium through puppeteer-core (which downloads no
 * browser), on a 360x800 phone viewport, and zbarimg (Debian zbar-tools) to read QR codes back from
 * screenshots. Shared by test/web/browser.test.ts (the page alone) and test/e2e/registration.test.ts
 * (the whole appliance). Screenshots go under test-artifacts/ (git-ignored) for a reviewer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type HTTPResponse, type Page } from 'puppeteer-core';
import { peer, requireBinary } from '../helpers/peers.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Every browser wait is bounded by this or less. */
export const STEP_MS = 15_000;

/** `test-artifacts/NAME/`, created. */
export function artifactsDir(name: string): string {
  const dir = new URL(`../../test-artifacts/${name}/`, import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Fails at once, naming the Debian package, when chromium or zbarimg is missing. */
export function requireBrowserTools(): void {
  requireBinary(CHROMIUM, 'chromium');
  requireBinary('zbarimg', 'zbar-tools');
}

/** The text zbarimg reads from a PNG (its exit status 4 means it found no code). */
export function decodeQr(png: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(peer('zbarimg'), ['--raw', '-q', png], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`zbarimg ${png}: ${error.message} ${stderr}`));
      else resolve(stdout.replace(/\n$/, ''));
    });
  });
}

/** Rejects after `ms` (browser calls that must not hang a test run). */
export function bounded<T>(what: string, p: Promise<T>, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** A headless chromium with its own profile; `close()` ends it (SIGKILL if it does not go) and removes the profile. */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  requireBrowserTools();
  const userDataDir = mkdtempSync(join(tmpdir(), 'awplus-chromium-'));
  let browser: Browser;
  try {
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
  } catch (e) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    browser,
    async close() {
      try {
        await bounded('browser.close', browser.close(), 10_000).catch(() => browser.process()?.kill('SIGKILL'));
      } finally {
        rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A fresh browser context (its own cookies) with a phone-sized page. `problems` collects console
 * errors, CSP violations (the page needed something its policy forbids), failed requests and requests
 * to anywhere but `origin`.
 */
export async function phone(browser: Browser, origin: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  await page.setViewport({ width: 360, height: 800, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  const problems: string[] = [];
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/.test(m.location().url ?? '')) problems.push(m.text());
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`)) problems.push(`request elsewhere: ${r.url()}`);
  });
  return { context, page, problems };
}

/** Types the user name and password and taps Login; the page it leads to. */
export async function submit(page: Page, user: string, password: string): Promise<HTTPResponse> {
  await page.type('#username', user);
  await page.type('#password', password);
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.tap('button[type="submit"]')]);
  assert.ok(response, 'the form led to a page');
  return response;
}

/**
 * Layout facts a phone user notices. No named inner functions: tsx wraps them in a helper (`__name`)
 * that does not exist in the browser.
 */
export const layout = (page: Page) =>
  page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    fontFamily: getComputedStyle(document.body).fontFamily,
    bodyFontPx: parseFloat(getComputedStyle(document.body).fontSize),
    inputFontPx: Array.from(document.querySelectorAll('input:not([type=hidden])'), (e) => parseFloat(getComputedStyle(e).fontSize)),
    controls: Array.from(document.querySelectorAll('input:not([type=hidden]), button, a.button'), (e) => e.getBoundingClientRect().height),
    widest: Math.max(...Array.from(document.querySelectorAll('body *'), (e) => e.getBoundingClientRect().right)),
  }));

/** Screenshots the page's QR `<svg>` into `png` (an element shot: a full-page one may cut the code off) and decodes it. */
export async function readQr(page: Page, png: string): Promise<string> {
  const svg = await page.$('.qr svg');
  assert.ok(svg, 'the QR code is an inline <svg>');
  const box = await svg.boundingBox();
  assert.ok(box && box.width >= 240 && box.height >= 240, `QR code ${box?.width}x${box?.height} px`);
  await svg.screenshot({ path: png });
  return bounded('zbarimg', decodeQr(png));
}
