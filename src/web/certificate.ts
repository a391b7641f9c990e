/**
 * The page's TLS certificate (SPEC §8): one the administrator installed in flash
 * (`2fa self-registration certificate flash:/CERT key flash:/KEY`), or else a self-signed one that the
 * appliance makes the first time the page opens and keeps in flash, so a browser that was told to
 * trust it sees the same certificate after every restart.
 */
import type { Flash } from '../util/flash.ts';
import type { Log } from '../util/log.ts';
import { describeCertificate, readCertifiedKey, selfSignedServer, type CertifiedKey } from '../util/x509.ts';

/** The self-signed pair in flash (dot-files: internal, not listed by `dir`). */
export const SELF_SIGNED_CERT = '.2fa-registration.crt';
export const SELF_SIGNED_KEY = '.2fa-registration.key';

const SELF_SIGNED_DAYS = 3650;
/** A self-signed certificate with less than this left is made again (as the OpenVPN server's). */
const RENEW_DAYS = 30;

/** Flash file names of an installed certificate and its key. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/** The kept self-signed pair if it is whole, belongs together and is not about to expire. */
function keptSelfSigned(flash: Flash, now: number): CertifiedKey | undefined {
  try {
    // A crash between the two writes below leaves a key without its certificate: made again.
    const pair = readCertifiedKey(flash, { cert: SELF_SIGNED_CERT, key: SELF_SIGNED_KEY });
    return describeCertificate(pair.cert).notAfter.getTime() - now < RENEW_DAYS * 86_400_000 ? undefined : pair;
  } catch {
    return undefined;
  }
}

/**
 * The self-signed certificate, made once (named after the appliance at that time) and reused. `now` is
 * the appliance clock.
 */
export async function selfSignedCertificate(flash: Flash, now: number, hostname: string, log: Log): Promise<CertifiedKey> {
  const kept = keptSelfSigned(flash, now);
  if (kept) return kept;
  // RFC 5280 §4.2.1.6: a dNSName must be a preferred name syntax host name (no '_').
  const dnsNames = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(hostname) ? [hostname] : [];
  const made = await selfSignedServer({ commonName: hostname, dnsNames, now, days: SELF_SIGNED_DAYS });
  flash.write(SELF_SIGNED_KEY, made.key, 0o600);
  flash.write(SELF_SIGNED_CERT, made.cert, 0o600);
  const d = describeCertificate(made.cert);
  log.info('web-certificate-created', { fingerprint: d.fingerprint, notAfter: d.notAfter.toISOString() });
  return made;
}
