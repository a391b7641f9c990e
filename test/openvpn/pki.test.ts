/**
 * The local CA and server certificate (made once, reused) and the client profile built on them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clientProfile } from '../../src/openvpn/client-profile.ts';
import { ensurePki } from '../../src/openvpn/pki.ts';
import { tunnelSettings } from '../../src/openvpn/settings.ts';
import { certificateAuthority } from '../../src/util/x509.ts';
import { peer } from '../helpers/peers.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');

test('the CA and server certificate are made once, private, chained, and reused', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ovpn-pki-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'openvpn');
  const first = await ensurePki(dir, NOW);
  assert.deepEqual(first.created, ['ca', 'server']);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const f of ['ca.crt', 'ca.key', 'server.crt', 'server.key']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  // OpenSSL (what openvpn uses) accepts the chain for a TLS server.
  const out = execFileSync(peer('openssl'), ['verify', '-purpose', 'sslserver', '-attime', String(NOW / 1000 + 60), '-CAfile', first.caPath, first.certPath]).toString();
  assert.match(out, /server\.crt: OK/);
  const ca = new X509Certificate(first.caCert);
  assert.equal(ca.ca, true);

  const again = await ensurePki(dir, NOW + 86_400_000);
  assert.deepEqual(again.created, []);
  assert.equal(again.caCert, first.caCert);
  const serverBefore = readFileSync(first.certPath, 'utf8');
  assert.equal(readFileSync(again.certPath, 'utf8'), serverBefore);

  // A lost server certificate is issued again by the same CA; the CA stays.
  unlinkSync(first.certPath);
  const reissued = await ensurePki(dir, NOW);
  assert.deepEqual(reissued.created, ['server']);
  assert.equal(reissued.caCert, first.caCert);
  assert.notEqual(readFileSync(reissued.certPath, 'utf8'), serverBefore);

  // Close to expiry (server certificates last 3650 days): re-issued, CA unchanged.
  const late = await ensurePki(dir, NOW + 3640 * 86_400_000);
  assert.deepEqual(late.created, ['server']);

  // A server certificate from another CA is replaced by one from ours.
  const other = await certificateAuthority({ commonName: 'someone else', now: NOW, days: 10 });
  writeFileSync(join(dir, 'server.crt'), other.cert);
  writeFileSync(join(dir, 'server.key'), other.key);
  assert.deepEqual((await ensurePki(dir, NOW)).created, ['server']);

  // A CA key that does not belong to the CA certificate (a crash between the two writes) means no CA.
  writeFileSync(join(dir, 'ca.key'), other.key);
  const fresh = await ensurePki(dir, NOW);
  assert.deepEqual(fresh.created, ['ca', 'server']);
  assert.notEqual(fresh.caCert, first.caCert);
});

test('the client profile: what a stock OpenVPN 2.6 client needs, CA inline', async () => {
  const ca = await certificateAuthority({ commonName: 'x', now: NOW, days: 10 });
  const text = clientProfile(tunnelSettings('tunnel0', { address: '10.8.0.1/24' }), { host: 'vpn.example.com', caCert: ca.cert });
  const lines = text.split('\n');
  for (const l of [
    'client',
    'dev tun',
    'proto udp',
    'remote vpn.example.com 1194',
    'nobind',
    'remote-cert-tls server',
    'auth-user-pass',
    'static-challenge "Verification Code:" 1',
    'auth-retry interact',
    '<ca>',
    '</ca>',
  ]) {
    assert.ok(lines.includes(l), `missing ${l}`);
  }
  assert.ok(text.includes(ca.cert.trim()));
  assert.doesNotMatch(text, /PRIVATE KEY|^cert |^key /m);
  const tcp = clientProfile(tunnelSettings('tunnel1', { mode: 'tap', protocol: 'tcp', port: 443 }), { host: '192.0.2.1', caCert: ca.cert });
  assert.match(tcp, /^dev tap$/m);
  assert.match(tcp, /^proto tcp-client$/m);
  assert.match(tcp, /^remote 192\.0\.2\.1 443$/m);
  // Comment lines on top (openvpn ignores '#' lines; control characters cannot start a directive).
  const noted = clientProfile(tunnelSettings('tunnel0'), { host: 'h', caCert: ca.cert, comment: 'first\nsecond\x1b[2J\nremote evil 1' });
  assert.match(noted, /^# first\n# second \[2J\n# remote evil 1\nclient\n/);
  // Logins with the password alone: no static challenge, so the client asks for no code.
  const plain = clientProfile(tunnelSettings('tunnel0'), { host: 'h', caCert: ca.cert, staticChallenge: false });
  assert.doesNotMatch(plain, /static-challenge/);
  assert.match(plain, /^auth-user-pass$/m);
  assert.throws(() => clientProfile(tunnelSettings('tunnel0'), { host: 'a b', caCert: ca.cert }), /not a host name/);
  assert.throws(() => clientProfile(tunnelSettings('tunnel0'), { host: 'a', caCert: 'junk' }), /not PEM/);
});
