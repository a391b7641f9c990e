/**
 * Turns the OpenVPN server's `>CLIENT:CONNECT`/`>CLIENT:REAUTH` requests into the appliance's one
 * login decision (src/auth/types.ts) and the decision into a management command (SPEC §15: one
 * decision code, two front doors). Nothing here logs a password, a code or a session token.
 *
 * Session tokens (`auth-gen-token … external-auth`, openvpn(8)): after a login OpenVPN gives the
 * client a token it sends instead of its password on every renegotiation and reconnection, and
 * tells us in `session_state` whether the token's HMAC checked out. A valid token is accepted here
 * without asking the login function, so a renegotiation never replays a spent code; a token of a
 * cleared session is refused.
 */
import type { LoginDecision, LoginRequest } from '../auth/types.ts';
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import { crv1Challenge, parseCrv1Response } from './crv1.ts';
import { quoteArg, type ClientEvent } from './management-protocol.ts';

/** The appliance's login decision, exactly as src/auth exports it. */
export type LoginFunction = (request: LoginRequest) => Promise<LoginDecision>;

/** What `aaa authentication openvpn` says for a tunnel: passed through to every LoginRequest. */
export type LoginSettings = Pick<LoginRequest, 'mode' | 'codeInPassword' | 'firstFactor'>;

/** The answer to one CONNECT/REAUTH. */
export type Answer =
  | { readonly kind: 'accept'; readonly reason: string; readonly config?: readonly string[] }
  | { readonly kind: 'deny'; readonly reason: string; readonly clientReason?: string };

export interface AuthBridgeOptions {
  readonly tunnel: string;
  readonly login: LoginFunction;
  readonly settings: (tunnel: string) => LoginSettings;
  readonly log: Log;
  readonly clock: Clock;
  /** How long a cleared session's token stays refused (it expires by itself 2 × renewal-time after
   * its session ended; 24 h covers the default renewal of an hour with room). */
  readonly revocationMs?: number;
}

/** The management command lines that carry `answer` for request (cid, kid). */
export function answerCommand(cid: number, kid: number, answer: Answer): string[] {
  if (answer.kind === 'accept') {
    // management-notes.txt client-auth: a client-connect config block, then END; an empty block is
    // client-auth-nt.
    if (!answer.config?.length) return [`client-auth-nt ${cid} ${kid}`];
    return [`client-auth ${cid} ${kid}`, ...answer.config.map((l) => l.replace(/[\r\n]/g, ' ')), 'END'];
  }
  const client = answer.clientReason === undefined ? '' : ` ${quoteArg(answer.clientReason)}`;
  return [`client-deny ${cid} ${kid} ${quoteArg(answer.reason)}${client}`];
}

/**
 * A reject message for the client's AUTH_FAILED line. Texts that start with a keyword a client
 * acts on (TEMP: retry later, SESSION: drop the token, CRV1: challenge; push.c receive_auth_failed)
 * are not passed on.
 */
function plainClientReason(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  const text = message.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  if (!text || /^(TEMP|SESSION|CRV1)/i.test(text)) return undefined;
  return text;
}

/** Client reason for a refused token: "SESSION:" makes a 2.6 client drop the token and log in
 * again with user name and password (ssl_verify.h, auth_set_client_reason). */
const SESSION_REFUSED = 'SESSION: session ended, log in again';

export class AuthBridge {
  /** Clients accepted by this server process: cid → user and session id. */
  private readonly accepted = new Map<number, { user: string; sessionId: string | undefined }>();
  /** Cleared sessions: session id → when. */
  private readonly revoked = new Map<string, number>();

  constructor(private readonly o: AuthBridgeOptions) {}

  /** Forgets the clients of a server process that is gone (client ids restart at 0). */
  reset(): void {
    this.accepted.clear();
  }

  /** Tracks connection state from ESTABLISHED/DISCONNECT notifications. */
  observe(e: ClientEvent): void {
    if (e.kind === 'DISCONNECT') this.accepted.delete(e.cid);
  }

  /** Refuses the session tokens of these clients from now on (`clear openvpn connection`). */
  revokeClient(cid: number): void {
    const s = this.accepted.get(cid);
    if (s?.sessionId) this.revoked.set(s.sessionId, this.o.clock.now());
  }

  /** Decides a CONNECT or REAUTH. Never rejects. */
  async judge(e: ClientEvent): Promise<Answer> {
    const answer = await this.decide(e);
    const env = e.env;
    this.o.log.info('openvpn-auth', {
      tunnel: this.o.tunnel,
      user: text(env.get('username') ?? ''),
      from: `${env.get('untrusted_ip') ?? '?'}:${env.get('untrusted_port') ?? '?'}`,
      cid: e.cid,
      kid: e.kid,
      request: e.kind === 'REAUTH' ? 'reauth' : 'connect',
      result: answer.kind === 'deny' && answer.clientReason?.startsWith('CRV1:') ? 'challenge' : answer.kind,
      reason: answer.reason,
    });
    if (answer.kind === 'accept') {
      this.accepted.set(e.cid, { user: text(env.get('username') ?? ''), sessionId: env.get('session_id') });
    }
    return answer;
  }

  private async decide(e: ClientEvent): Promise<Answer> {
    const env = e.env;
    const user = text(env.get('username') ?? '');
    const state = env.get('session_state');
    const sessionId = env.get('session_id');
    this.prune();
    if (state === 'Authenticated') {
      if (sessionId !== undefined && this.revoked.has(sessionId)) return { kind: 'deny', reason: 'session cleared', clientReason: SESSION_REFUSED };
      return { kind: 'accept', reason: 'session-token' };
    }
    if (state !== undefined && state !== 'Initial') {
      // Expired, Invalid, and the *EmptyUser states (openvpn(8) --auth-gen-token: handle those
      // "in the same way as Invalid" unless OpenVPN 3's workaround is wanted).
      return { kind: 'deny', reason: `session token ${state}`, clientReason: SESSION_REFUSED };
    }
    if (e.kind === 'REAUTH') {
      // A renegotiation without a token (a client that does not take auth-gen-token) resends its
      // cached password, code included: asking the login function would replay a spent code. The
      // TLS session is the one we already accepted (OpenVPN locks its user name:
      // tls_lock_username), so keep it.
      const s = this.accepted.get(e.cid);
      if (s && s.user === user && !(s.sessionId !== undefined && this.revoked.has(s.sessionId))) {
        return { kind: 'accept', reason: 'renegotiation' };
      }
    }
    if (!user) return { kind: 'deny', reason: 'no user name' };
    const raw = Buffer.from(env.get('password') ?? '', 'latin1');
    const crv1 = parseCrv1Response(raw);
    if (crv1 === 'malformed') return { kind: 'deny', reason: 'malformed challenge response' };
    const request: LoginRequest = {
      ...this.o.settings(this.o.tunnel),
      user,
      // SCRV1 and 2fa-in-password are parsed by the auth layer: the bytes go through unchanged.
      password: crv1 ? crv1.response : raw,
      ...(crv1 ? { challenge: crv1.token } : {}),
      client: `openvpn:${this.o.tunnel}`,
    };
    let decision: LoginDecision;
    try {
      decision = await this.o.login(request);
    } catch (err) {
      this.o.log.error('openvpn-auth-error', { tunnel: this.o.tunnel, user, error: (err as Error).message });
      return { kind: 'deny', reason: 'internal error' };
    }
    switch (decision.kind) {
      case 'accept':
        return { kind: 'accept', reason: decision.reason };
      case 'reject': {
        const clientReason = plainClientReason(decision.message);
        return { kind: 'deny', reason: decision.reason, ...(clientReason ? { clientReason } : {}) };
      }
      case 'challenge':
        return { kind: 'deny', reason: decision.reason, clientReason: crv1Challenge(decision.token, user, decision.prompt) };
    }
  }

  private prune(): void {
    const limit = this.o.clock.now() - (this.o.revocationMs ?? 86_400_000);
    for (const [id, at] of this.revoked) if (at < limit) this.revoked.delete(id);
  }
}

/** An env value (latin1 = raw bytes) as the UTF-8 text the client sent. */
function text(value: string): string {
  return Buffer.from(value, 'latin1').toString('utf8');
}
