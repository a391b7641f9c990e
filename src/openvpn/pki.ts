/**
 * The OpenVPN server's local CA and server certificate (SPEC §15: "a local CA (generated once in
 * flash) issues the server certificate"). Made once in the private directory and reused on every
 * restart, so the client profiles users imported keep working; the server certificate alone is
 * re-issued when it is missing, not signed by this CA, or about to expire.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { certificateAuthority, issue, type CertifiedKey } from '../util/x509.ts';

/** Paths of the PEM files the server config names, and the CA certificate for client profiles. */
export interface PkiFiles {
  readonly caPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly caCert: string;
}

const CA_DAYS = 7300;
const SERVER_DAYS = 3650;
/** Re-issue the server certificate when fewer days than this remain. */
const RENEW_DAYS = 30;

/** Creates `dir` owner-only (0700), or tightens an existing one. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Writes a file owner-only (0600), atomically and durably (temp file, fsync, rename). */
export function writePrivate(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function readPair(certPath: string, keyPath: string): CertifiedKey | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  const cert = readFileSync(certPath, 'utf8');
  const key = readFileSync(keyPath, 'utf8');
  try {
    // The pair must belong together: a crash between writing a new key and its certificate must
    // not leave an old certificate beside a new key.
    const fromCert = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
    const fromKey = createPublicKey(createPrivateKey(key)).export({ type: 'spki', format: 'der' });
    if (!fromCert.equals(fromKey)) return undefined;
  } catch {
    return undefined;
  }
  return { cert, key };
}

function serverStillGood(server: CertifiedKey, ca: CertifiedKey, now: number): boolean {
  const c = new X509Certificate(server.cert);
  const issuer = new X509Certificate(ca.cert);
  return c.checkIssued(issuer) && c.verify(issuer.publicKey) && Date.parse(c.validTo) - now > RENEW_DAYS * 86_400_000;
}

/**
 * Makes sure `dir` holds the CA (`ca.crt`, `ca.key`) and the server certificate (`server.crt`,
 * `server.key`), creating what is missing. `now` is the appliance clock (ms).
 */
export async function ensurePki(dir: string, now: number, commonName = 'awplus OpenVPN'): Promise<PkiFiles & { created: string[] }> {
  privateDir(dir);
  const caPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  const certPath = join(dir, 'server.crt');
  const keyPath = join(dir, 'server.key');
  const created: string[] = [];
  let ca = readPair(caPath, caKeyPath);
  if (!ca) {
    ca = await certificateAuthority({ commonName: `${commonName} CA`, now, days: CA_DAYS });
    // A crash between the two writes leaves a mismatched or half pair, which the next start
    // treats as "no CA" (readPair) and replaces.
    writePrivate(caKeyPath, ca.key);
    writePrivate(caPath, ca.cert);
    created.push('ca');
  }
  const server = readPair(certPath, keyPath);
  if (!server || !serverStillGood(server, ca, now)) {
    const fresh = await issue(ca, { commonName: `${commonName} server`, now, days: SERVER_DAYS }, 'server');
    writePrivate(keyPath, fresh.key);
    writePrivate(certPath, fresh.cert);
    created.push('server');
  }
  return { caPath, certPath, keyPath, caCert: ca.cert, created };
}
