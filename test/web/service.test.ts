/**
 * The page as the appliance runs it (src/web/service.ts, src/web/certificate.ts): held while a startup
 * config is applied, following its settings, the self-signed certificate made once and kept in flash,
 * an installed certificate checked and served.
 */
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { ManualClock } from '../../src/util/clock.ts';
import { Flash } from '../../src/util/flash.ts';
import { memoryLog } from '../../src/util/log.ts';
import { describeCertificate, selfSignedServer } from '../../src/util/x509.ts';
import { SELF_SIGNED_CERT, SELF_SIGNED_KEY, selfSignedCertificate } from '../../src/web/certificate.ts';
import { RegistrationService, type PageSettings } from '../../src/web/service.ts';
import { tempFlash } from '../helpers/app.ts';
import { fetchPage, freePort, MemoryBackend, occupyPort, servedFingerprint } from './fixture.ts';

const T0 = Date.UTC(2024, 2, 3, 12, 0, 0);
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A service on a fresh flash whose settings the test changes through `set`. */
function newService(dir?: string) {
  const flash = dir ? { dir, cleanup: () => {} } : tempFlash();
  const clock = new ManualClock(T0);
  const log = memoryLog();
  let settings: PageSettings | undefined;
  const service = new RegistrationService({
    backend: new MemoryBackend(clock, { alice: 'alice-pw' }),
    flash: new Flash(flash.dir),
    clock,
    log,
    settings: () => settings,
    host: '127.0.0.1',
    limits: { drainMs: 1000 },
  });
  cleanups.push(flash.cleanup, () => service.stop());
  return { service, log, clock, dir: flash.dir, set: (s: PageSettings | undefined) => void (settings = s) };
}

/** The error code of a request to `port` (ECONNREFUSED: nothing listens), or undefined when it was answered. */
const failureOf = (port: number) => fetchPage(port).then(
  () => undefined,
  (e: NodeJS.ErrnoException) => e.code,
);

test('held: nothing opens until released; then one apply opens it with a self-signed certificate made once and kept in flash', async () => {
  const s = newService();
  const port = await freePort();
  s.service.hold();
  s.set({ port, certificate: undefined, hostname: 'gw1' });
  assert.equal(await s.service.apply(), undefined);
  assert.equal(s.service.status().listening, false, 'held');
  s.service.release();
  assert.equal(await s.service.apply(), undefined);
  const status = s.service.status();
  assert.equal(status.listening, true);
  assert.equal(status.port, port);
  assert.equal(status.certificate?.source, 'self-signed');
  assert.equal(status.certificate?.subject, 'CN=gw1');
  assert.deepEqual(status.certificate?.dnsNames, ['gw1']);
  assert.equal(await servedFingerprint(port), status.certificate?.fingerprint);
  // Dot-files (not listed by `dir`), owner-only.
  for (const f of [SELF_SIGNED_CERT, SELF_SIGNED_KEY]) assert.equal(statSync(join(s.dir, f)).mode & 0o777, 0o600, f);
  assert.equal(new Flash(s.dir).list().length, 0);
  assert.equal(s.log.events.filter((e) => e.event === 'web-certificate-created').length, 1);

  // A restart on the same flash serves the same certificate.
  await s.service.stop();
  const again = newService(s.dir);
  again.set({ port, certificate: undefined, hostname: 'renamed' });
  assert.equal(await again.service.apply(), undefined);
  assert.equal(again.service.status().certificate?.fingerprint, status.certificate?.fingerprint);
  assert.equal(again.log.events.filter((e) => e.event === 'web-certificate-created').length, 0);
});

test('a kept self-signed certificate is made again when its key is not its own, or when it is about to expire', async () => {
  const dir = tempFlash();
  cleanups.push(dir.cleanup);
  const flash = new Flash(dir.dir);
  const log = memoryLog();
  const first = await selfSignedCertificate(flash, T0, 'gw1', log);
  assert.deepEqual(await selfSignedCertificate(flash, T0, 'gw1', log), first, 'reused');
  // A crash between the two writes: a new key beside the old certificate.
  flash.write(SELF_SIGNED_KEY, (await selfSignedServer({ commonName: 'x', now: T0, days: 1 })).key);
  const second = await selfSignedCertificate(flash, T0, 'gw1', log);
  assert.notEqual(second.cert, first.cert);
  // Ten years on, less than 30 days before it expires.
  const late = describeCertificate(second.cert).notAfter.getTime() - 10 * 86_400_000;
  const third = await selfSignedCertificate(flash, late, 'gw1', log);
  assert.notEqual(third.cert, second.cert);
  assert.equal(log.events.filter((e) => e.event === 'web-certificate-created').length, 3);
});

test('it follows its settings: unchanged settings leave the listener alone, a new port moves it, none closes it', async () => {
  const s = newService();
  const [a, b] = [await freePort(), await freePort()];
  s.set({ port: a, certificate: undefined, hostname: 'gw1' });
  assert.equal(await s.service.apply(), undefined);
  const opened = s.log.events.filter((e) => e.event === 'web-listening').length;
  assert.equal(await s.service.apply(), undefined);
  assert.equal(s.log.events.filter((e) => e.event === 'web-listening').length, opened, 'no change, no re-listen');
  s.set({ port: b, certificate: undefined, hostname: 'gw1' });
  assert.equal(await s.service.apply(), undefined);
  assert.equal(s.service.status().port, b);
  assert.equal(await failureOf(a), 'ECONNREFUSED');
  s.set(undefined);
  assert.equal(await s.service.apply(), undefined);
  assert.deepEqual([s.service.status().listening, s.service.status().certificate], [false, undefined]);
});

test('a port in use: an error now, and the next apply tries again', async () => {
  const s = newService();
  const held = await occupyPort();
  s.set({ port: held.port, certificate: undefined, hostname: 'gw1' });
  assert.equal(await s.service.apply(), `port ${held.port} is already in use`);
  assert.equal(s.service.status().error, `port ${held.port} is already in use`);
  assert.equal(await s.service.apply(), `port ${held.port} is already in use`, 'still in use');
  await new Promise((r) => held.server.close(r));
  assert.equal(await s.service.apply(), undefined);
  assert.equal(s.service.status().listening, true);
});

test('an installed certificate is served; one that cannot be used is an error and the page keeps what it had', async () => {
  const s = newService();
  const port = await freePort();
  const real = await selfSignedServer({ commonName: 'gw.example.jp', dnsNames: ['gw.example.jp'], now: T0, days: 90 });
  writeFileSync(join(s.dir, 'gw.crt'), real.cert);
  writeFileSync(join(s.dir, 'gw.key'), real.key);
  s.set({ port, certificate: { cert: 'gw.crt', key: 'gw.key' }, hostname: 'gw1' });
  assert.equal(await s.service.apply(), undefined);
  const fp = describeCertificate(real.cert).fingerprint;
  assert.equal(await servedFingerprint(port), fp);
  assert.deepEqual([s.service.status().certificate?.source, s.service.status().certificate?.dnsNames], ['flash:/gw.crt', ['gw.example.jp']]);
  assert.equal(s.log.events.filter((e) => e.event === 'web-certificate-created').length, 0, 'no self-signed certificate was made');

  // The key file is replaced by a key of another certificate: refused, the old pair stays in service.
  writeFileSync(join(s.dir, 'gw.key'), (await selfSignedServer({ commonName: 'other', now: T0, days: 1 })).key);
  assert.equal(await s.service.apply(), 'the certificate cannot be used: the key does not belong to the certificate');
  assert.equal(await servedFingerprint(port), fp);
  assert.equal(s.service.status().listening, true);
  assert.match(s.service.status().error ?? '', /does not belong/);
});
