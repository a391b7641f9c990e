/**
 * The self-registration page over real HTTPS on 127.0.0.1 (SPEC §8): what it shows, and each of its
 * security controls. The page's clock is a manual one, so form tokens and the rate limit are exact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import { ManualClock } from '../../src/util/clock.ts';
import type { WebLimits } from '../../src/web/types.ts';
import { escapeHtml } from '../../src/web/html.ts';
import { LOGIN_FAILED, TRY_LATER } from '../../src/web/pages/login-form.ts';
import { groupSecret } from '../../src/web/pages/registered.ts';
import { fetchPage, MemoryBackend, openForm, postLogin, startPage, testCertificate, type Reply } from './fixture.ts';

const T0 = Date.UTC(2024, 2, 3, 12, 0, 0);
const CSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The headers every response must carry, whatever it is. */
function assertHardened(r: Reply, what: string): void {
  assert.equal(r.headers['cache-control'], 'no-store', `${what}: Cache-Control`);
  assert.equal(r.headers['content-security-policy'], CSP, `${what}: CSP`);
  assert.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.equal(r.headers['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
  assert.equal(r.headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
}

/**
 * A page with alice (password "alice-pw"), bob and a user with a hostile name; 3 wrong passwords lock
 * a user. The rate limit is out of the way except where it is the subject.
 */
async function fixture(limits: Partial<WebLimits> = { postsPerWindow: 1000 }) {
  const clock = new ManualClock(T0);
  const backend = new MemoryBackend(clock, { alice: 'alice-pw', bob: 'bob-pw', '<script>alert(1)</script>"\'&': 'x' });
  const started = await startPage(clock, backend, limits);
  return { clock, backend, ...started };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

describe('self-registration page', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(async () => {
    await f?.page.close();
  });

  test('the form: Username, Password, Login, a form token and a locked-down cookie', async () => {
    const { reply, token } = await openForm(f.port);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    assertHardened(reply, 'form');
    assert.match(reply.body, /<label for="username">Username<\/label>/);
    assert.match(reply.body, /<label for="password">Password<\/label>/);
    assert.match(reply.body, /<input id="password" name="password" type="password"/);
    assert.match(reply.body, /<button type="submit">Login<\/button>/);
    assert.match(reply.body, /<form method="post" action="\/2fa-registration">/);
    assert.ok(token.length > 40);
    const cookies = reply.headers['set-cookie'] ?? [];
    assert.equal(cookies.length, 1);
    const [pair, ...attributes] = cookies[0]!.split('; ');
    assert.match(pair!, /^__Secure-2fa-registration=[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(attributes.sort(), ['HttpOnly', 'Path=/2fa-registration', 'SameSite=Strict', 'Secure']);
  });

  test('a browser that has the cookie keeps it: no new Set-Cookie, a token that fits it', async () => {
    const first = await openForm(f.port);
    const again = await openForm(f.port, first.cookie);
    assert.equal(again.reply.headers['set-cookie'], undefined);
    assert.notEqual(again.token, '');
  });

  test('no inline script or style anywhere; the stylesheet comes from the same origin', async () => {
    const { reply } = await openForm(f.port);
    assert.doesNotMatch(reply.body, /<script|<style|\sstyle=|\son[a-z]+=/i);
    assert.match(reply.body, /<link rel="stylesheet" href="\/2fa-registration\/style.css">/);
    const css = await fetchPage(f.port, { path: '/2fa-registration/style.css' });
    assert.equal(css.status, 200);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assertHardened(css, 'stylesheet');
    assert.match(css.body, /system-ui/);
    assert.doesNotMatch(css.body, /url\(|@import/, 'nothing loaded from anywhere else');
  });

  test('a registration shows the QR code, the key in groups of 4, the otpauth link and the 5 scratch codes', async () => {
    const { cookie, token } = await openForm(f.port);
    const r = await postLogin(f.port, { user: 'alice', password: 'alice-pw', cookie, token });
    assert.equal(r.status, 200);
    assertHardened(r, 'result');
    const issued = f.backend.issued.get('alice')!;
    assert.ok(issued);
    const svg = /<div class="qr">(<svg[^>]*>)/.exec(r.body)?.[1];
    assert.ok(svg, 'inline SVG');
    assert.match(svg, /width="288" height="288"/);
    assert.match(svg, /role="img" aria-label="QR code for your authenticator app"/);
    const grouped = groupSecret(issued.secret);
    assert.match(grouped, /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
    assert.ok(r.body.includes(`<p class="secret"><code>${grouped}</code></p>`));
    assert.ok(r.body.includes(`<a class="button" href="${escapeHtml(issued.otpauthUrl)}">`));
    const codes = [...r.body.matchAll(/<li><code>(\d{8})<\/code><\/li>/g)].map((m) => m[1]);
    assert.deepEqual(codes, issued.scratchCodes);
    assert.match(r.body, /Store these backup codes somewhere safe/);
    assert.equal(f.page.counters().registrations, 1);
    const ok = f.log.events.find((e) => e.event === 'web-registration-ok');
    assert.deepEqual(ok?.fields, { user: 'alice', client: '127.0.0.1' });
  });

  test('the audit log never holds a password, a secret or a scratch code', async () => {
    const { cookie, token } = await openForm(f.port);
    await postLogin(f.port, { user: 'bob', password: 'wrong-bob-pw', cookie, token });
    await postLogin(f.port, { user: 'bob', password: 'bob-pw', cookie, token });
    const text = JSON.stringify(f.log.events);
    assert.ok(f.log.events.some((e) => e.event === 'web-registration-failed' && e.fields['user'] === 'bob' && e.fields['reason'] === 'bad-login'));
    assert.ok(f.log.events.some((e) => e.event === 'web-registration-ok' && e.fields['user'] === 'bob'));
    for (const secret of ['bob-pw', 'wrong-bob-pw', 'alice-pw', ...[...f.backend.issued.values()].flatMap((r) => [r.secret, ...r.scratchCodes])]) {
      assert.ok(!text.includes(secret), `log holds ${secret}`);
    }
  });

  test('already registered: a clear refusal only after the password was accepted, and no new key', async () => {
    const { cookie, token } = await openForm(f.port);
    const before = f.backend.issued.get('alice');
    const again = await postLogin(f.port, { user: 'alice', password: 'alice-pw', cookie, token });
    assert.equal(again.status, 409);
    assertHardened(again, 'already registered');
    assert.match(again.body, /already set up for this user, so no new key was made/);
    assert.doesNotMatch(again.body, /<svg|class="codes"|otpauth:/);
    assert.equal(f.backend.issued.get('alice'), before);
    // A wrong password for a registered user says nothing about the registration.
    const probe = await postLogin(f.port, { user: 'alice', password: 'guess', cookie, token });
    assert.equal(probe.status, 200);
    assert.ok(probe.body.includes(LOGIN_FAILED));
    assert.doesNotMatch(probe.body, /already/i);
    assert.equal(f.page.counters().failures['already-registered'], 1);
  });

  test('HEAD is GET without a body', async () => {
    const r = await fetchPage(f.port, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assertHardened(r, 'HEAD');
  });

  test('unknown paths are 404, other methods 405 with Allow', async () => {
    for (const path of ['/', '/2fa-registration/', '//2fa-registration', '/2fa-registration.css', '/favicon.ico', '/2FA-REGISTRATION', '/2fa-registration/../etc/passwd']) {
      const r = await fetchPage(f.port, { path });
      assert.equal(r.status, 404, path);
      assertHardened(r, `404 ${path}`);
    }
    const q = await fetchPage(f.port, { path: '/2fa-registration?next=https://evil.example/' });
    assert.equal(q.status, 200, 'a query string changes nothing');
    for (const method of ['PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']) {
      const r = await fetchPage(f.port, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers['allow'], 'GET, HEAD, POST');
      assertHardened(r, `405 ${method}`);
    }
    const post = await fetchPage(f.port, { method: 'POST', path: '/2fa-registration/style.css', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD');
  });
});

describe('CSRF', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(async () => {
    await f?.page.close();
  });

  test('a POST without the right token for its cookie is refused (403) before the backend sees it', async () => {
    const mine = await openForm(f.port);
    const theirs = await openForm(f.port);
    const cases: [string, Parameters<typeof postLogin>[1]][] = [
      ['no token', { user: 'alice', password: 'alice-pw', cookie: mine.cookie }],
      ['no cookie', { user: 'alice', password: 'alice-pw', token: mine.token }],
      ['wrong token', { user: 'alice', password: 'alice-pw', cookie: mine.cookie, token: `${mine.token.split('.')[0]}.${'A'.repeat(43)}` }],
      ['token of another cookie', { user: 'alice', password: 'alice-pw', cookie: mine.cookie, token: theirs.token }],
      ['token cut short', { user: 'alice', password: 'alice-pw', cookie: mine.cookie, token: mine.token.slice(0, -1) }],
      ['made-up cookie', { user: 'alice', password: 'alice-pw', cookie: `__Secure-2fa-registration=${'x'.repeat(43)}`, token: mine.token }],
      ['foreign Origin', { user: 'alice', password: 'alice-pw', cookie: mine.cookie, token: mine.token, headers: { Origin: 'https://evil.example' } }],
      ['foreign Origin on our port', { user: 'alice', password: 'alice-pw', cookie: mine.cookie, token: mine.token, headers: { Origin: `http://127.0.0.1:${f.port}` } }],
      ['cross-site fetch', { user: 'alice', password: 'alice-pw', cookie: mine.cookie, token: mine.token, headers: { 'Sec-Fetch-Site': 'cross-site' } }],
      ['same-site fetch', { user: 'alice', password: 'alice-pw', cookie: mine.cookie, token: mine.token, headers: { 'Sec-Fetch-Site': 'same-site' } }],
      ['Origin null from another site', { user: 'alice', password: 'alice-pw', cookie: mine.cookie, token: mine.token, headers: { Origin: 'null', 'Sec-Fetch-Site': 'cross-site' } }],
      ['Origin null without a token', { user: 'alice', password: 'alice-pw', cookie: mine.cookie, headers: { Origin: 'null' } }],
    ];
    for (const [what, post] of cases) {
      const r = await postLogin(f.port, post);
      assert.equal(r.status, 403, what);
      assertHardened(r, what);
      assert.match(r.body, /This form has expired or did not come from this page/, what);
    }
    assert.equal(f.backend.calls, 0, 'the backend never saw a password');
    assert.equal(f.page.counters().csrfRejected, cases.length);
    assert.equal(f.log.events.filter((e) => e.event === 'web-csrf-rejected').length, cases.length);
  });

  test('the right token with its own Origin is accepted', async () => {
    const { cookie, token } = await openForm(f.port);
    const r = await postLogin(f.port, { user: 'bob', password: 'bob-pw', cookie, token, headers: { Origin: `https://127.0.0.1:${f.port}`, 'Sec-Fetch-Site': 'same-origin' } });
    assert.equal(r.status, 200);
    assert.match(r.body, /<svg/);
  });

  test('Origin: null, what a browser sends for our own no-referrer form, is left to the token', async () => {
    const { cookie, token } = await openForm(f.port);
    const r = await postLogin(f.port, { user: 'nobody', password: 'x', cookie, token, headers: { Origin: 'null', 'Sec-Fetch-Site': 'same-origin' } });
    assert.equal(r.status, 200);
    assert.ok(r.body.includes(LOGIN_FAILED));
  });

  test('a form older than its lifetime (2 hours) is refused; one just within it is accepted', async () => {
    const { cookie, token } = await openForm(f.port);
    f.clock.advance(2 * 3_600_000);
    const inTime = await postLogin(f.port, { user: 'nobody', password: 'x', cookie, token });
    assert.equal(inTime.status, 200);
    f.clock.advance(1);
    const late = await postLogin(f.port, { user: 'nobody', password: 'x', cookie, token });
    assert.equal(late.status, 403);
  });
});

describe('failed logins', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(async () => {
    await f?.page.close();
  });

  test('a wrong password and a locked-out user get byte-identical pages; an unknown user the same but for the name', async () => {
    const { cookie, token } = await openForm(f.port);
    const wrong = await postLogin(f.port, { user: 'alice', password: 'nope', cookie, token });
    await postLogin(f.port, { user: 'alice', password: 'nope', cookie, token });
    await postLogin(f.port, { user: 'alice', password: 'nope', cookie, token }); // the third locks alice
    const locked = await postLogin(f.port, { user: 'alice', password: 'alice-pw', cookie, token });
    const unknown = await postLogin(f.port, { user: 'mallory', password: 'nope', cookie, token });
    assert.equal(wrong.status, 200);
    assert.ok(wrong.body.includes(`<p class="error" role="alert">${LOGIN_FAILED}</p>`));
    assert.equal(locked.status, wrong.status);
    assert.equal(locked.body, wrong.body, 'locked out looks exactly like a wrong password');
    assert.deepEqual(headersOf(locked), headersOf(wrong));
    assert.equal(unknown.status, wrong.status);
    assert.equal(unknown.body.replace('value="mallory"', 'value="alice"'), wrong.body);
    assert.deepEqual({ ...headersOf(unknown), 'content-length': '' }, { ...headersOf(wrong), 'content-length': '' });
    const c = f.page.counters();
    assert.equal(c.failures['bad-login'], 4);
    assert.equal(c.failures['locked-out'], 1);
    assert.ok(f.log.events.some((e) => e.event === 'web-registration-failed' && e.fields['reason'] === 'locked-out'));
  });

  test('a first factor that does not answer, or a failing backend: "try again later" (503)', async () => {
    const { cookie, token } = await openForm(f.port);
    f.backend.silent.add('bob');
    const timeout = await postLogin(f.port, { user: 'bob', password: 'bob-pw', cookie, token });
    f.backend.silent.delete('bob');
    assert.equal(timeout.status, 503);
    assert.ok(timeout.body.includes(TRY_LATER));
    f.backend.broken = true;
    const broken = await postLogin(f.port, { user: 'bob', password: 'bob-pw', cookie, token });
    f.backend.broken = false;
    assert.equal(broken.status, 503);
    assertHardened(broken, 'broken backend');
    assert.ok(broken.body.includes(TRY_LATER));
    assert.ok(f.log.events.some((e) => e.event === 'web-registration-error' && e.fields['message'] === 'store is read-only'));
    assert.equal(f.page.counters().failures['first-factor-timeout'], 1);
    assert.equal(f.page.counters().failures.unavailable, 1);
  });

  test('empty fields ask for both without asking the backend; impossible names fail like a wrong password', async () => {
    const { cookie, token } = await openForm(f.port);
    const calls = f.backend.calls;
    const empty = await postLogin(f.port, { user: '  ', password: 'x', cookie, token });
    assert.match(empty.body, /Enter your username and password\./);
    const noPassword = await postLogin(f.port, { user: 'bob', password: '', cookie, token });
    assert.match(noPassword.body, /Enter your username and password\./);
    const long = await postLogin(f.port, { user: 'b'.repeat(254), password: 'x', cookie, token });
    assert.ok(long.body.includes(LOGIN_FAILED));
    const control = await postLogin(f.port, { user: 'bob\u0000', password: 'bob-pw', cookie, token });
    assert.ok(control.body.includes(LOGIN_FAILED));
    assert.equal(f.backend.calls, calls);
  });

  test('a hostile user name is shown escaped, on the failure page and on the result page', async () => {
    const hostile = '<script>alert(1)</script>"\'&';
    const { cookie, token } = await openForm(f.port);
    const failed = await postLogin(f.port, { user: hostile, password: 'wrong', cookie, token });
    assert.ok(!failed.body.includes('<script>'));
    assert.ok(failed.body.includes('value="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"'));
    const ok = await postLogin(f.port, { user: hostile, password: 'x', cookie, token });
    assert.equal(ok.status, 200);
    assert.ok(!ok.body.includes('<script>'));
    assert.ok(ok.body.includes('<strong>&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;</strong>'));
    // The link's URL is the backend's, percent-encoded there; in the attribute it is escaped again.
    assert.ok(ok.body.includes(`href="${escapeHtml(f.backend.issued.get(hostile)!.otpauthUrl)}"`));
  });
});

/** Headers that must not differ between two failure pages (Date may). */
function headersOf(r: Reply): Record<string, unknown> {
  const { date: _date, ...rest } = r.headers;
  return rest;
}

describe('limits', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture({ postsPerWindow: 10, handshakeTimeoutMs: 300, headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckMs: 100 });
  });
  after(async () => {
    await f?.page.close();
  });

  test('10 POSTs a minute per client address, then 429 with Retry-After; other addresses go on', async () => {
    const { cookie, token } = await openForm(f.port);
    for (let i = 0; i < 10; i++) {
      const r = await postLogin(f.port, { user: `u${i}`, password: 'x', cookie, token });
      assert.equal(r.status, 200, `attempt ${i + 1}`);
    }
    f.clock.advance(20_000);
    const calls = f.backend.calls;
    const limited = await postLogin(f.port, { user: 'alice', password: 'alice-pw', cookie, token });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '40');
    assertHardened(limited, '429');
    assert.match(limited.body, /Too many attempts/);
    assert.equal(f.backend.calls, calls, 'the backend is not asked');
    const other = await postLogin(f.port, { user: 'nobody', password: 'x', cookie, token, localAddress: '127.0.0.2' });
    assert.equal(other.status, 200, 'another address has its own budget');
    const get = await fetchPage(f.port);
    assert.equal(get.status, 200, 'the form still opens');
    await postLogin(f.port, { user: 'alice', password: 'alice-pw', cookie, token });
    f.clock.advance(40_000);
    const later = await postLogin(f.port, { user: 'nobody', password: 'x', cookie, token });
    assert.equal(later.status, 200, 'allowed again after the window');
    assert.equal(f.page.counters().rateLimited, 2);
    assert.equal(f.log.events.filter((e) => e.event === 'web-rate-limited').length, 1, 'logged once per burst');
  });

  test('a body over 4 KB is refused with 413, declared or streamed; another media type with 415', async () => {
    f.clock.advance(120_000);
    const { cookie, token } = await openForm(f.port);
    const big = `csrf=${token}&username=alice&password=${'x'.repeat(5000)}`;
    const declared = await fetchPage(f.port, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie }, body: big });
    assert.equal(declared.status, 413);
    assertHardened(declared, '413');
    const streamed = await fetchPage(f.port, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked', Cookie: cookie },
      body: big,
    });
    assert.equal(streamed.status, 413);
    const json = await fetchPage(f.port, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie }, body: JSON.stringify({ username: 'alice' }) });
    assert.equal(json.status, 415);
    assertHardened(json, '415');
    const fits = `csrf=${token}&username=nobody&password=${'x'.repeat(100)}`;
    const ok = await fetchPage(f.port, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie }, body: fits });
    assert.equal(ok.status, 200);
  });

  test('a request head that never ends is answered 408 and closed (slowloris)', async () => {
    const ca = (await testCertificate()).cert;
    const started = performance.now();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: f.port, ca, servername: 'localhost' }, () => {
        socket.write('GET /2fa-registration HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      });
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        reject(new Error('the server kept a slow request head open for 5 s'));
      }, 5000).unref();
    });
    assert.match(raw, /^HTTP\/1\.1 408 /);
    assert.match(raw, /Cache-Control: no-store\r\n/);
    assert.ok(performance.now() - started < 4000);
  });

  test('a connection that never finishes its TLS handshake is closed', async () => {
    const { Socket } = await import('node:net');
    for (const hello of [Buffer.alloc(0), Buffer.from([0x16, 0x03, 0x01, 0x00, 0x80, 0x01])]) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const s = new Socket();
        const timer = setTimeout(() => {
          s.destroy();
          reject(new Error('the server kept a connection without a TLS handshake for 5 s'));
        }, 5000);
        s.on('error', () => {});
        s.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
        s.connect(f.port, '127.0.0.1', () => s.write(hello));
      });
      assert.ok(performance.now() - started < 4000);
    }
  });

  test('a request head over 8 KB is refused with 431', async () => {
    const r = await fetchPage(f.port, { headers: { 'X-Big': 'y'.repeat(9000) } });
    assert.equal(r.status, 431);
    assert.equal(r.headers['cache-control'], 'no-store');
  });
});
