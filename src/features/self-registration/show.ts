/** `show 2fa self-registration` (layout [OURS], AW+-style aligned fields). */
import type { RunningConfig } from '../../config/model.ts';
import type { RegistrationStatus } from '../appliance.ts';
import { fields } from '../format.ts';
import { displayTime } from '../../time/timezone.ts';
import { zoneOf } from '../time/zone.ts';

/** The address users are given (AW+ manual: https://<address or host name>:<port>/2fa-registration). */
function pageUrl(cfg: Readonly<RunningConfig>, s: RegistrationStatus, port: number): string {
  const c = s.certificate;
  // An installed certificate names the host browsers must use; a self-signed one is trusted by hand anyway.
  const host = (c && c.source !== 'self-signed' ? c.dnsNames.find((n) => !n.startsWith('*.')) : undefined) ?? cfg.hostname;
  return `https://${host}:${port}/2fa-registration`;
}

function state(cfg: Readonly<RunningConfig>, s: RegistrationStatus): string {
  if (cfg.twofa.registrationPort === undefined) return 'Disabled (no port configured)';
  if (s.listening) return `Listening on TCP port ${s.port}${s.error ? ` (${s.error})` : ''}`;
  return `Not listening${s.error ? ` (${s.error})` : ''}`;
}

export function formatRegistration(cfg: Readonly<RunningConfig>, s: RegistrationStatus, now: number): string[] {
  const port = cfg.twofa.registrationPort;
  const group = cfg.aaa.registration?.group;
  const f = s.counters.failures;
  const c = s.certificate;
  const rows: [string, string][] = [
    ['State', state(cfg, s)],
    ['Port', port === undefined ? '-' : String(port)],
    ['URL', port === undefined ? '-' : pageUrl(cfg, s, port)],
    ['First factor', group === undefined ? 'local RADIUS users (no aaa authentication 2fa-registration)' : `group ${group}`],
    ['Certificate', c ? (c.source === 'self-signed' ? 'self-signed, made by this appliance' : c.source) : cfg.twofa.registrationCertificate ? `flash:/${cfg.twofa.registrationCertificate.cert}` : 'self-signed (made when the page opens)'],
  ];
  if (c) {
    rows.push(
      ['Certificate subject', c.subject.replace(/\n/g, ', ')],
      ['Certificate SHA-256', c.fingerprint],
      ['Certificate expires', `${displayTime(c.notAfter.getTime(), zoneOf(cfg))}${c.notAfter.getTime() < now ? ' (expired)' : ''}`],
    );
  }
  rows.push(
    ['Registrations', String(s.counters.registrations)],
    ['Failed logins', String(f['bad-login'])],
    ['Refused, locked out', String(f['locked-out'])],
    ['Already registered', String(f['already-registered'])],
    ['First factor timeouts', String(f['first-factor-timeout'])],
    ['Errors', String(f.unavailable)],
    ['Forms refused (CSRF)', String(s.counters.csrfRejected)],
    ['Rate limited', String(s.counters.rateLimited)],
    ['Names locked out now', `${s.lockedOutNames} (without a 2FA record)`],
  );
  return ['2FA self-registration page', '-'.repeat(60), ...fields(rows)];
}
