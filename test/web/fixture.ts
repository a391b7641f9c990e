/**
 * Shared by the page's tests: a small real in-memory backend, a self-signed certificate for
 * 127.0.0.1, a started page, and an HTTPS client that checks the certificate against it.
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:tls';
import type { Clock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';
import { selfSignedServer, type CertifiedKey } from '../../src/util/x509.ts';
import { RegistrationServer } from '../../src/web/server.ts';
import type { Registration, RegistrationBackend, RegistrationResult, WebLimits } from '../../src/web/types.ts';

export { freePort, occupyPort } from '../helpers/ports.ts';

/** RFC 4648 §6 base32, no padding (what authenticator apps expect in `secret=`). */
export function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Users with passwords, a per-user lockout after `lockoutFailures` wrong passwords, one TOTP user per
 * name. Registration only after the password was accepted, like the appliance's backend.
 */
export class MemoryBackend implements RegistrationBackend {
  calls = 0;
  /** Every registration handed out, by user. */
  readonly issued = new Map<string, Registration>();
  /** Users whose first-factor source does not answer. */
  readonly silent = new Set<string>();
  /** Set to make every call reject (a broken store). */
  broken = false;
  private readonly failures = new Map<string, number>();
  private readonly lockedUntil = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly passwords: Record<string, string>,
    private readonly lockoutFailures = 3,
    private readonly lockoutMs = 300_000,
  ) {}

  async register(user: string, password: string, _client: string): Promise<RegistrationResult> {
    this.calls++;
    if (this.broken) throw new Error('store is read-only');
    const now = this.clock.now();
    if ((this.lockedUntil.get(user) ?? 0) > now) return { ok: false, reason: 'locked-out' };
    if (this.silent.has(user)) return { ok: false, reason: 'first-factor-timeout' };
    const known = this.passwords[user];
    const given = Buffer.from(password);
    const good = known !== undefined && Buffer.byteLength(known) === given.length && timingSafeEqual(Buffer.from(known), given);
    if (!good) {
      const n = (this.failures.get(user) ?? 0) + 1;
      this.failures.set(user, n);
      if (n >= this.lockoutFailures) {
        this.lockedUntil.set(user, now + this.lockoutMs);
        this.failures.delete(user);
      }
      return { ok: false, reason: 'bad-login' };
    }
    this.failures.delete(user);
    if (this.issued.has(user)) return { ok: false, reason: 'already-registered' };
    const secret = base32(randomBytes(20));
    const registration: Registration = {
      ok: true,
      secret,
      otpauthUrl: `otpauth://totp/${encodeURIComponent(`${user}@awplus`)}?secret=${secret}&issuer=awplus`,
      scratchCodes: Array.from({ length: 5 }, () => String(randomInt(10_000_000, 100_000_000))),
    };
    this.issued.set(user, registration);
    return registration;
  }
}

let certificate: Promise<CertifiedKey> | undefined;

/**
 * One self-signed certificate for 127.0.0.1 and localhost, made once per test process. Valid from the
 * host's real time: TLS clients check it against that, not against the page's (test) clock.
 */
export function testCertificate(): Promise<CertifiedKey> {
  certificate ??= selfSignedServer({ commonName: 'awplus test', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now: Date.now(), days: 30 });
  return certificate;
}

/** A page listening on a free port of 127.0.0.1. */
export async function startPage(clock: Clock, backend: RegistrationBackend, limits: Partial<WebLimits> = {}) {
  const log = memoryLog();
  const tls = await testCertificate();
  const page = new RegistrationServer({ backend, log, clock, limits });
  const error = await page.apply({ port: 0, host: '127.0.0.1', ...tls });
  if (error) throw new Error(error);
  return { page, log, tls, port: page.status().port! };
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string | number>;
  readonly body?: string | Buffer;
  /** Source address (another 127.x.y.z is another client). */
  readonly localAddress?: string;
  /** CA to trust; the test certificate when omitted. */
  readonly ca?: string;
}

/** One request on its own connection, bounded to 5 s; the certificate is verified. */
export async function fetchPage(port: number, o: RequestOptions = {}): Promise<Reply> {
  const ca = o.ca ?? (await testCertificate()).cert;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path ?? '/2fa-registration', headers: o.headers, ca, agent: false, localAddress: o.localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The form's cookie (as a `Cookie` header value) and token. */
export async function openForm(port: number, cookie?: string): Promise<{ cookie: string; token: string; reply: Reply }> {
  const reply = await fetchPage(port, { headers: cookie ? { Cookie: cookie } : {} });
  const set = reply.headers['set-cookie']?.[0];
  const token = /name="csrf" value="([^"]+)"/.exec(reply.body)?.[1];
  if (!token) throw new Error('no form token on the page');
  return { cookie: cookie ?? set!.split(';')[0]!, token, reply };
}

/** POSTs the login form. */
export function postLogin(
  port: number,
  f: { user: string; password: string; cookie?: string; token?: string; headers?: Record<string, string>; localAddress?: string },
): Promise<Reply> {
  const form = new URLSearchParams();
  if (f.token !== undefined) form.set('csrf', f.token);
  form.set('username', f.user);
  form.set('password', f.password);
  return fetchPage(port, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(f.cookie ? { Cookie: f.cookie } : {}), ...f.headers },
    body: form.toString(),
    localAddress: f.localAddress,
  });
}

/** SHA-256 fingerprint (OpenSSL style) of the certificate a new TLS connection to 127.0.0.1:`port` is shown. */
export function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fp);
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS connect timed out')));
  });
}
