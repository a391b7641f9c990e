/**
 * X.509 certificates made by the appliance itself: the self-signed certificate of the registration
 * page and the local CA of the OpenVPN server (SPEC §8, §15). ECDSA P-256 with SHA-256, which every
 * TLS peer we serve (Chromium, OpenSSL in OpenVPN) accepts. @peculiar/x509 over node:crypto's WebCrypto;
 * its dependency injection (tsyringe) needs the Reflect metadata polyfill loaded first.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { Flash } from './flash.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A certificate and its private key, both PEM. */
export interface CertifiedKey {
  readonly cert: string;
  readonly key: string;
}

/** What a new certificate says about its subject. */
export interface CertificateRequest {
  /** Common name (`CN=`). */
  readonly commonName: string;
  /** DNS names and IP addresses for subjectAltName. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Validity start (appliance clock, ms) and length in days. */
  readonly now: number;
  readonly days: number;
}

function serial(): string {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random octets with the top bit clear.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

function subjectAltName(r: CertificateRequest): x509.Extension[] {
  const names = [...(r.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(r.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value }))];
  return names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [];
}

async function exportKey(keys: CryptoKeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function validity(r: CertificateRequest): { notBefore: Date; notAfter: Date } {
  // An hour of slack before "now" so a peer whose clock is a little behind still accepts it.
  return { notBefore: new Date(r.now - 3_600_000), notAfter: new Date(r.now + r.days * 86_400_000) };
}

const escapeDn = (cn: string) => cn.replace(/([,+"\\<>;=])/g, '\\$1');

/** A self-signed TLS server certificate. */
export async function selfSignedServer(r: CertificateRequest): Promise<CertifiedKey> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeDn(r.commonName)}`,
    ...validity(r),
    keys: keys as unknown as CryptoKeyPair,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ...subjectAltName(r),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys as unknown as CryptoKeyPair) };
}

/** A certificate authority (self-signed, may sign end-entity certificates only). */
export async function certificateAuthority(r: CertificateRequest): Promise<CertifiedKey> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeDn(r.commonName)}`,
    ...validity(r),
    keys: keys as unknown as CryptoKeyPair,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as CryptoKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys as unknown as CryptoKeyPair) };
}

/** An end-entity certificate signed by `ca` for TLS servers (`server`) or clients (`client`). */
export async function issue(ca: CertifiedKey, r: CertificateRequest, purpose: 'server' | 'client'): Promise<CertifiedKey> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.key), ALG, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${escapeDn(r.commonName)}`,
    issuer: caCert.subject,
    ...validity(r),
    publicKey: keys.publicKey as unknown as CryptoKey,
    signingKey: caKey as unknown as CryptoKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([purpose === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ...subjectAltName(r),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys as unknown as CryptoKeyPair) };
}

/**
 * The certificates of a PEM file, in order (a server's file may carry its intermediate CAs after its own
 * certificate, RFC 8446 §4.4.2: "the sender's certificate MUST come first"). X509Certificate parses one.
 */
function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/** What `show` commands tell about a certificate (the first of a chain): SHA-256 fingerprint (as OpenSSL prints it), expiry, names. */
export function describeCertificate(pem: string): { fingerprint: string; notAfter: Date; subject: string; dnsNames: string[] } {
  const c = new X509Certificate(pemCertificates(pem)[0] ?? pem);
  const fp = createHash('sha256').update(c.raw).digest('hex').toUpperCase().match(/../g)!.join(':');
  // Node prints subjectAltName as "DNS:a.example, IP Address:192.0.2.1".
  const dnsNames = (c.subjectAltName ?? '').split(/,\s*/).flatMap((n) => (n.startsWith('DNS:') ? [n.slice(4)] : []));
  return { fingerprint: fp, notAfter: new Date(c.validTo), subject: c.subject, dnsNames };
}

/**
 * A certificate and its key read from flash files and checked as checkCertifiedKey does; throws an
 * Error in words (a missing file included).
 */
export function readCertifiedKey(flash: Flash, files: { readonly cert: string; readonly key: string }): CertifiedKey {
  for (const name of [files.cert, files.key]) {
    if (!flash.exists(name)) throw new Error(`flash:/${name} does not exist`);
  }
  const pair = { cert: flash.read(files.cert), key: flash.read(files.key) };
  checkCertifiedKey(pair);
  return pair;
}

/**
 * Checks a certificate and key an administrator brings (PEM): every certificate parses, each one after
 * the first issued the one before it, and the key is the first one's. Throws an Error that says what is wrong.
 */
export function checkCertifiedKey(pair: CertifiedKey): void {
  let chain: X509Certificate[];
  try {
    const blocks = pemCertificates(pair.cert);
    if (blocks.length === 0) throw new Error('no certificate');
    chain = blocks.map((b) => new X509Certificate(b));
  } catch {
    throw new Error('the certificate file is not a PEM X.509 certificate');
  }
  for (let i = 1; i < chain.length; i++) {
    if (!chain[i - 1]!.checkIssued(chain[i]!)) throw new Error('the certificates in the file are not in order: the server certificate first, then each one that issued the one before');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pair.key);
  } catch {
    throw new Error('the key file is not a PEM private key without a passphrase');
  }
  if (!chain[0]!.checkPrivateKey(key)) throw new Error('the key does not belong to the certificate');
  // Last, what a TLS server will do with the files (OpenSSL is stricter about PEM framing than the parts above).
  try {
    createSecureContext({ cert: pair.cert, key: pair.key });
  } catch (e) {
    throw new Error(`TLS does not accept the files: ${(e as Error).message}`);
  }
}
