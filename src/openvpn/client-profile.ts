/**
 * The client profile `show openvpn client-config tunnelN` prints (SPEC §15): a complete .ovpn a
 * stock OpenVPN 2.6 client (or OpenVPN GUI / Connect) imports unchanged — the CA inline, the server
 * address, user name + password with the 2FA manual's static challenge
 * (`static-challenge "Verification Code:" 1`, left out for a tunnel whose logins take the password
 * alone), no client certificate.
 */
import type { TunnelSettings } from './settings.ts';

export interface ProfileOptions {
  /** Host name or address clients reach the appliance at. */
  readonly host: string;
  /** The local CA's certificate (PEM). */
  readonly caCert: string;
  /** Optional comment lines at the top (who made it, what to check); each becomes a `# ` line. */
  readonly comment?: string;
  /**
   * Whether the client asks for a code with its password [true]. False when the tunnel's logins take
   * the password alone (`aaa authentication openvpn` without `2fa`): the client would otherwise send
   * SCRV1:password:code where the server expects the plain password.
   */
  readonly staticChallenge?: boolean;
}

/** The profile text. The host must be a plain host name or address (no spaces or quotes). */
export function clientProfile(t: TunnelSettings, o: ProfileOptions): string {
  if (!/^[A-Za-z0-9.:_-]+$/.test(o.host)) throw new Error(`"${o.host}" is not a host name or address`);
  const pem = o.caCert.trim();
  if (!/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----$/.test(pem)) throw new Error('the CA certificate is not PEM');
  const lines = [
    // openvpn(8) config files: a line starting with '#' or ';' is a comment.
    ...(o.comment ?? `OpenVPN client profile for ${t.name}`).split('\n').map((l) => `# ${l.replace(/[\x00-\x1f\x7f]/g, ' ')}`.trimEnd()),
    'client',
    // Must match the server's device type (openvpn(8) --dev: "must be compatible").
    `dev ${t.mode}`,
    // The server listens on IPv4; "udp"/"tcp-client" let the client resolve the host either way.
    `proto ${t.protocol === 'udp' ? 'udp' : 'tcp-client'}`,
    `remote ${o.host} ${t.port}`,
    'resolv-retry infinite',
    'nobind',
    'persist-key',
    'persist-tun',
    // The server certificate must be a server's (extendedKeyUsage serverAuth, issued by the local
    // CA), so another client of the same CA cannot pose as the server.
    'remote-cert-tls server',
    // No client certificate: the server has verify-client-cert none; users log in with a user
    // name, a password and (unless the tunnel's logins take the password alone) the code of their
    // authenticator (AW+ 2FA manual: OpenVPN client side).
    'auth-user-pass',
    ...(o.staticChallenge === false ? [] : ['static-challenge "Verification Code:" 1']),
    // Clients without static-challenge support get the code question as a dynamic challenge
    // (CRV1), which needs the client to ask again instead of giving up (openvpn(8) --auth-retry).
    'auth-retry interact',
    // The server hands out a session token after login (auth-gen-token); do not keep the password
    // in memory besides it.
    'auth-nocache',
    'verb 3',
    '<ca>',
    pem,
    '</ca>',
  ];
  return lines.join('\n') + '\n';
}
