/**
 * The page's listener follows the config without a restart (issue 14): bind, a port in use, a port
 * change, a new certificate, a refused certificate, disable, and requests in flight when it closes.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { after, afterEach, test } from 'node:test';
import { ManualClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';
import { describeCertificate, selfSignedServer } from '../../src/util/x509.ts';
import { RegistrationServer } from '../../src/web/server.ts';
import type { RegistrationBackend, RegistrationResult } from '../../src/web/types.ts';
import { fetchPage, freePort, MemoryBackend, occupyPort, openForm, postLogin, servedFingerprint, testCertificate } from './fixture.ts';

const T0 = Date.UTC(2024, 2, 3, 12, 0, 0);
const clock = new ManualClock(T0);
const pages: RegistrationServer[] = [];
const blockers: Server[] = [];

function newPage(backend: RegistrationBackend = new MemoryBackend(clock, { alice: 'alice-pw' })) {
  const log = memoryLog();
  const page = new RegistrationServer({ backend, log, clock, limits: { drainMs: 2000 } });
  pages.push(page);
  return { page, log };
}

afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close()));
  await Promise.all(blockers.splice(0).map((b) => new Promise((r) => b.close(r))));
});

/** A TCP port of 127.0.0.1 held by someone else (released after each test). */
async function occupiedPort(): Promise<number> {
  const held = await occupyPort();
  blockers.push(held.server);
  return held.port;
}

const refused = (port: number) =>
  fetchPage(port).then(
    () => false,
    (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED',
  );

test('a port in use is a clear error the caller can show, and nothing listens', async () => {
  const { page, log } = newPage();
  const port = await occupiedPort();
  const tls = await testCertificate();
  const error = await page.apply({ port, host: '127.0.0.1', ...tls });
  assert.equal(error, `port ${port} is already in use`);
  assert.deepEqual(page.status(), { listening: false, port: undefined, error });
  assert.ok(log.events.some((e) => e.event === 'web-listen-failed' && e.fields['error'] === error));
  // When the port is free again, applying the same settings binds it.
  await new Promise((r) => blockers.pop()!.close(r));
  assert.equal(await page.apply({ port, host: '127.0.0.1', ...tls }), undefined);
  assert.equal(page.status().port, port);
  assert.equal((await fetchPage(port)).status, 200);
});

test('no plain HTTP: a cleartext request gets no page', async () => {
  const { page } = newPage();
  await page.apply({ port: 0, host: '127.0.0.1', ...(await testCertificate()) });
  const port = page.status().port!;
  const { Socket } = await import('node:net');
  const answer = await new Promise<string>((resolve, reject) => {
    const s = new Socket();
    let data = '';
    s.connect(port, '127.0.0.1', () => s.write('GET /2fa-registration HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('data', (c: Buffer) => (data += c.toString('latin1')));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(data));
    s.setTimeout(5000, () => reject(new Error('no answer in 5 s')));
  });
  assert.doesNotMatch(answer, /HTTP\/1\.[01] 200|<form/);
});

test('the listener moves to a new port, and disable closes it', async () => {
  const { page } = newPage();
  const tls = await testCertificate();
  const first = await freePort();
  assert.equal(await page.apply({ port: first, host: '127.0.0.1', ...tls }), undefined);
  assert.equal((await fetchPage(first)).status, 200);
  const second = await freePort();
  assert.equal(await page.apply({ port: second, host: '127.0.0.1', ...tls }), undefined);
  assert.equal(page.status().port, second);
  assert.equal((await fetchPage(second)).status, 200);
  assert.ok(await refused(first), 'the old port is closed');
  assert.equal(await page.apply(undefined), undefined);
  assert.deepEqual(page.status(), { listening: false, port: undefined, error: undefined });
  assert.ok(await refused(second));
});

test('a new certificate is served to new connections without closing the listener; a bad one is refused and the old one kept', async () => {
  const { page, log } = newPage();
  const one = await testCertificate();
  await page.apply({ port: 0, host: '127.0.0.1', ...one });
  const port = page.status().port!;
  assert.equal(await servedFingerprint(port), describeCertificate(one.cert).fingerprint);
  const { cookie, token } = await openForm(port);

  const two = await selfSignedServer({ commonName: 'renewed', ipAddresses: ['127.0.0.1'], now: Date.now(), days: 30 });
  assert.equal(await page.apply({ port: 0, host: '127.0.0.1', ...two }), undefined);
  assert.equal(page.status().port, port, 'same listener');
  assert.equal(await servedFingerprint(port), describeCertificate(two.cert).fingerprint);
  assert.equal((await fetchPage(port, { ca: two.cert })).status, 200);
  // Same page object: forms opened before the change still work.
  const r = await fetchPage(port, {
    ca: two.cert,
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
    body: new URLSearchParams({ csrf: token, username: 'alice', password: 'alice-pw' }).toString(),
  });
  assert.equal(r.status, 200);

  const error = await page.apply({ port: 0, host: '127.0.0.1', cert: 'not a certificate', key: two.key });
  assert.match(error ?? '', /^the certificate or key was not accepted: /);
  assert.equal(page.status().listening, true);
  assert.equal(await servedFingerprint(port), describeCertificate(two.cert).fingerprint, 'the old certificate stays');
  assert.ok(log.events.some((e) => e.event === 'web-certificate-refused'));
  const mismatched = await page.apply({ port: 0, host: '127.0.0.1', cert: one.cert, key: two.key });
  assert.match(mismatched ?? '', /^the certificate or key was not accepted: /);
});

test('a bad certificate on first start is an error, not a crash', async () => {
  const { page } = newPage();
  const error = await page.apply({ port: 0, host: '127.0.0.1', cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key: 'nope' });
  assert.match(error ?? '', /^the certificate or key was not accepted: /);
  assert.equal(page.status().listening, false);
});

test('close() lets a registration in flight finish and show its secret', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const inner = new MemoryBackend(clock, { alice: 'alice-pw' });
  const slow: RegistrationBackend = {
    async register(user, password, client): Promise<RegistrationResult> {
      entered();
      await gate;
      return inner.register(user, password, client);
    },
  };
  const { page } = newPage(slow);
  await page.apply({ port: 0, host: '127.0.0.1', ...(await testCertificate()) });
  const port = page.status().port!;
  const { cookie, token } = await openForm(port);
  const reply = postLogin(port, { user: 'alice', password: 'alice-pw', cookie, token });
  await inside;
  const closing = page.close();
  assert.ok(await refused(port), 'no new connections while closing');
  release();
  const r = await reply;
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(inner.issued.get('alice')!.scratchCodes[0]!));
  assert.equal(r.headers['connection'], 'close');
  await closing;
});

test('close() does not wait for a connection stuck before its TLS handshake beyond the drain time', async () => {
  const log = memoryLog();
  const page = new RegistrationServer({ backend: new MemoryBackend(clock, {}), log, clock, limits: { drainMs: 300, handshakeTimeoutMs: 10_000 } });
  pages.push(page);
  await page.apply({ port: 0, host: '127.0.0.1', ...(await testCertificate()) });
  const { Socket } = await import('node:net');
  const idle = new Socket();
  const ended = new Promise<void>((resolve) => idle.on('close', () => resolve()));
  idle.on('error', () => {});
  await new Promise<void>((resolve) => idle.connect(page.status().port!, '127.0.0.1', resolve));
  const started = performance.now();
  await page.close();
  await ended;
  const took = performance.now() - started;
  assert.ok(took < 3000, `close() took ${Math.round(took)} ms`);
});

test('counters are snapshots the caller cannot change', async () => {
  const { page } = newPage();
  const c = page.counters();
  assert.deepEqual(c, {
    registrations: 0,
    failures: { 'bad-login': 0, 'locked-out': 0, 'already-registered': 0, 'first-factor-timeout': 0, unavailable: 0 },
    csrfRejected: 0,
    rateLimited: 0,
  });
  assert.throws(() => {
    (c.failures as Record<string, number>)['bad-login'] = 5;
  });
  (c as { registrations: number }).registrations = 9;
  assert.equal(page.counters().registrations, 0);
});

after(async () => {
  await Promise.all(pages.map((p) => p.close()));
});
