/**
 * The page's security helpers on their own: form tokens, the rate limiter's keys and memory bound,
 * escaping, cookies, and the grouped secret.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/util/clock.ts';
import { CsrfTokens } from '../../src/web/csrf.ts';
import { escapeHtml } from '../../src/web/html.ts';
import { parseCookies, pathOf, sessionCookie } from '../../src/web/http.ts';
import { groupSecret, qrSvg } from '../../src/web/pages/registered.ts';
import { clientAddress, clientKey, RateLimiter } from '../../src/web/rate-limit.ts';

const T0 = Date.UTC(2024, 2, 3, 12, 0, 0);

test('a form token is valid only with its own cookie, only from this server, only within its lifetime', () => {
  const clock = new ManualClock(T0);
  const csrf = new CsrfTokens(clock, 60_000);
  const nonce = csrf.newNonce();
  assert.ok(csrf.isNonce(nonce));
  const token = csrf.issue(nonce);
  assert.equal(csrf.verify(nonce, token), true);
  assert.equal(csrf.verify(csrf.newNonce(), token), false, 'another cookie');
  assert.equal(csrf.verify(nonce, undefined), false);
  assert.equal(csrf.verify(undefined, token), false);
  assert.equal(new CsrfTokens(clock, 60_000).verify(nonce, token), false, 'another server key');
  const [issued, mac] = token.split('.') as [string, string];
  assert.equal(csrf.verify(nonce, `${(T0 + 1000).toString(36)}.${mac}`), false, 'a moved timestamp breaks the MAC');
  assert.equal(csrf.verify(nonce, `${issued}.${mac.slice(1)}`), false);
  assert.equal(csrf.verify(nonce, `.${mac}`), false);
  assert.equal(csrf.verify(nonce, `-1.${mac}`), false);
  clock.advance(60_000);
  assert.equal(csrf.verify(nonce, token), true);
  clock.advance(1);
  assert.equal(csrf.verify(nonce, token), false, 'expired');
  clock.set(T0 - 120_000);
  assert.equal(csrf.verify(nonce, token), false, 'from the future (clock set back)');
});

test('cookie values that are not ours are not nonces', () => {
  const csrf = new CsrfTokens(new ManualClock(T0), 1000);
  for (const v of [undefined, '', 'short', 'x'.repeat(44), `${'a'.repeat(42)};`, `${'a'.repeat(42)}=`]) assert.equal(csrf.isNonce(v), false, String(v));
});

test('the rate limiter: a sliding window per key, Retry-After from the oldest attempt, bounded memory', () => {
  const clock = new ManualClock(T0);
  const limiter = new RateLimiter(clock, 3, 60_000, 2);
  assert.equal(limiter.take('a').ok, true);
  clock.advance(10_000);
  assert.equal(limiter.take('a').ok, true);
  assert.equal(limiter.take('a').ok, true);
  assert.deepEqual(limiter.take('a'), { ok: false, retryAfterSeconds: 50, first: true });
  assert.deepEqual(limiter.take('a'), { ok: false, retryAfterSeconds: 50, first: false });
  assert.equal(limiter.take('b').ok, true);
  clock.advance(50_000);
  assert.equal(limiter.take('a').ok, true, 'the first attempt left the window');
  assert.equal(limiter.take('a').ok, false);
  // Memory: at most 2 keys; the least recently seen is forgotten first.
  limiter.take('c');
  limiter.take('d');
  assert.equal((limiter as unknown as { recent: Map<string, unknown> }).recent.size, 2);
});

test('clients are limited per IPv4 address and per IPv6 /64', () => {
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:0DB8:0001:0002:ffff::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(clientAddress('::ffff:10.0.0.1'), '10.0.0.1');
  assert.equal(clientAddress('2001:db8::1'), '2001:db8::1');
  assert.equal(clientAddress(undefined), 'unknown');
});

test('escaping covers element content and both attribute quotes', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&amp;</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  assert.equal(escapeHtml('plain älice'), 'plain älice');
});

test('cookies: parsed as RFC 6265 pairs, first of a name wins; ours has every flag', () => {
  const c = parseCookies('a=1; b = 2 ;a=3; junk; =x; c=');
  assert.deepEqual([...c], [['a', '1'], ['b', '2'], ['c', '']]);
  assert.equal(parseCookies(undefined).size, 0);
  assert.equal(sessionCookie('__Secure-x', 'v', '/p'), '__Secure-x=v; Path=/p; Secure; HttpOnly; SameSite=Strict');
});

test('paths are compared raw, without query or fragment', () => {
  assert.equal(pathOf('/2fa-registration?x=1'), '/2fa-registration');
  assert.equal(pathOf('/2fa-registration#top'), '/2fa-registration');
  assert.equal(pathOf('//2fa-registration'), '//2fa-registration');
  assert.equal(pathOf(undefined), '');
});

test('the secret in groups of 4', () => {
  assert.equal(groupSecret('JBSWY3DPEHPK3PXP'), 'JBSW Y3DP EHPK 3PXP');
  assert.equal(groupSecret('JBSWY3DPEHPK3PXPA'), 'JBSW Y3DP EHPK 3PXP A');
  assert.equal(groupSecret('ABC'), 'ABC');
});

test('the QR code is one SVG element of a fixed size with a white quiet zone, nothing external', async () => {
  const svg = await qrSvg('otpauth://totp/alice%40awplus?secret=JBSWY3DPEHPK3PXP');
  assert.match(svg, /^<svg role="img" aria-label="[^"]+" xmlns="http:\/\/www.w3.org\/2000\/svg" width="288" height="288" viewBox="0 0 (\d+) \1"/);
  const size = Number(/viewBox="0 0 (\d+)/.exec(svg)![1]);
  assert.ok(svg.includes(`<path fill="#ffffff" d="M0 0h${size}v${size}H0z"/>`), 'white background over the whole code');
  assert.match(svg, /<path stroke="#000000" d="M4 4\.5h7/, 'the first finder pattern starts 4 modules in');
  assert.doesNotMatch(svg, /href|<image|<script|style=/);
  assert.ok(svg.endsWith('</svg>'));
});
