/**
 * OpenVPN's dynamic challenge/response protocol, CRV1 (management-notes.txt "Challenge/Response
 * Protocol"). The server refuses the first login with a client reason
 * `CRV1:<flags>:<state_id>:<username_base64>:<challenge_text>`; a client with `auth-retry interact`
 * asks the user and logs in again with the password `CRV1::<state_id>::<response>`. Stock OpenVPN
 * 2.6 clients do this on the console and through their management interface (real-peers.md §3.5,
 * §3.6), which is why it is used here rather than `client-pending-auth` (that needs the client to
 * announce `IV_SSO=crtext`, which the command-line client does not).
 */

/** The state id is our challenge token in base64: it cannot contain ':' as the protocol demands. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The client reason that starts a dynamic challenge. Flags: R = a response is required, E = echo
 * it while typed (a one-time code is not secret once used, and echo matches the static challenge
 * `static-challenge "Verification Code:" 1`).
 */
export function crv1Challenge(token: Buffer, user: string, prompt: string): string {
  const text = prompt.replace(/[\x00-\x1f\x7f]/g, ' ');
  return `CRV1:R,E:${token.toString('base64')}:${Buffer.from(user, 'utf8').toString('base64')}:${text}`;
}

/** A password that answers a CRV1 challenge, split into the challenge token and the response. */
export interface Crv1Response {
  readonly token: Buffer;
  /** The user's answer, byte for byte. */
  readonly response: Buffer;
}

/**
 * `CRV1::<state_id>::<response>` → token and response; undefined when the password is not a CRV1
 * answer; 'malformed' when it claims to be one but the state id is not one we could have issued.
 * `password` is the raw bytes the client sent.
 */
export function parseCrv1Response(password: Buffer): Crv1Response | 'malformed' | undefined {
  const prefix = Buffer.from('CRV1::');
  if (!password.subarray(0, prefix.length).equals(prefix)) return undefined;
  const rest = password.subarray(prefix.length);
  // The state id has no ':' (management-notes.txt), so the first "::" ends it; the response may
  // contain anything.
  const sep = rest.indexOf('::');
  if (sep <= 0) return 'malformed';
  const state = rest.subarray(0, sep).toString('latin1');
  if (!BASE64.test(state)) return 'malformed';
  return { token: Buffer.from(state, 'base64'), response: Buffer.from(rest.subarray(sep + 2)) };
}
