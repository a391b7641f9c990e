/**
 * The local RADIUS server: `handle(datagram, from)` answers one packet without touching a socket
 * (fastify inject, layeh Handler), so it is tested directly and udp.ts only moves bytes.
 *
 * The request path, in order (aesthetics.md §8):
 *   1. identify the client   — unknown source addresses are dropped (RFC 2865 §3)
 *   2. parse                 — malformed framing is dropped
 *   3. Message-Authenticator — checked wherever present (own HMAC, constant time), required where the
 *                              NAS entry says so (RFC 3579 §3.2; BlastRADIUS)
 *   4. duplicates            — a retransmission gets the cached reply, never a second evaluation (RFC 5080 §2.2.2)
 *   5. User-Password         — un-hidden (RFC 2865 §5.2)
 *   6. decide                — authenticate.ts: second factor first, then first factor
 *   7. reply                 — Message-Authenticator first, Proxy-State echoed in order (RFC 2865 §5.33)
 */
import type { Log } from '../util/log.ts';
import { decide, type DecideDeps, type Decision } from './authenticate.ts';
import { checkMessageAuthenticator, encodeResponse, unhidePassword } from './crypto.ts';
import { DuplicateCache } from './dedupe.ts';
import { Attr, attr, Code, MalformedPacket, parsePacket, text, type Attribute, type Packet } from './packet.ts';
import { ServerStats, type DropReason } from './stats.ts';
import type { NasEntry } from './types.ts';

export interface Remote {
  readonly address: string;
  readonly port: number;
}

export class RadiusServer {
  readonly stats = new ServerStats();
  private readonly duplicates = new DuplicateCache();

  constructor(
    private readonly deps: DecideDeps,
    private readonly log: Log,
  ) {}

  private drop(reason: DropReason, from: Remote): undefined {
    this.stats.drop(reason);
    this.log.info('radius-drop', { client: from.address, reason });
    return undefined;
  }

  /** Answers one datagram; undefined = no answer (silently discarded). */
  async handle(datagram: Buffer, from: Remote): Promise<Buffer | undefined> {
    const nas = this.deps.settings().local.nas.find((n) => n.address === from.address);
    if (!nas) return this.drop('unknown-client', from);
    let request: Packet;
    try {
      request = parsePacket(datagram);
    } catch (e) {
      if (e instanceof MalformedPacket) return this.drop('malformed', from);
      throw e;
    }
    if (request.code !== Code.AccessRequest) return this.drop('not-access-request', from);
    const secret = Buffer.from(nas.key, 'utf8');
    const ma = checkMessageAuthenticator(request, secret);
    if (ma === false) return this.drop('bad-message-authenticator', from);
    if (ma === undefined && nas.requireMessageAuthenticator) return this.drop('missing-message-authenticator', from);

    const key = DuplicateCache.key(from.address, from.port, request.identifier, request.authenticator);
    const seen = this.duplicates.begin(key, this.deps.now());
    if (seen.kind === 'in-progress') return this.drop('in-progress', from);
    if (seen.kind === 'done') {
      this.stats.duplicates++;
      return seen.reply;
    }
    this.stats.requests++;
    let reply: Buffer | undefined;
    try {
      reply = await this.answer(request, nas, secret, from);
    } catch (e) {
      this.log.error('radius-internal-error', { client: from.address, message: (e as Error).message });
      reply = this.drop('internal-error', from);
    } finally {
      this.duplicates.finish(key, reply, this.deps.now());
    }
    return reply;
  }

  private async answer(request: Packet, nas: NasEntry, secret: Buffer, from: Remote): Promise<Buffer | undefined> {
    const user = attr(request, Attr.UserName)?.toString('utf8') ?? '';
    const hidden = attr(request, Attr.UserPassword);
    const password = hidden && unhidePassword(hidden, secret, request.authenticator);
    if (!password) return this.drop('bad-password-attribute', from);
    const state = attr(request, Attr.State);
    const decision = await decide({ user, password, state, nas }, this.deps);
    this.record(decision, user, from);
    return encodeResponse(...this.replyParts(decision, request), secret);
  }

  private record(d: Decision, user: string, from: Remote): void {
    if (d.kind === 'accept') this.stats.accepts++;
    else if (d.kind === 'reject') this.stats.rejects++;
    else this.stats.challenges++;
    this.stats.reason(d.reason);
    this.log.info('radius-auth', { user, client: from.address, result: d.kind, reason: d.reason });
  }

  private replyParts(d: Decision, request: Packet): [number, Packet, Attribute[]] {
    const attrs: Attribute[] = [];
    if (d.kind === 'challenge') {
      attrs.push({ type: Attr.ReplyMessage, value: text(d.message!) }, { type: Attr.State, value: d.state! });
    }
    // Proxy-State, every one in order, copied unmodified (RFC 2865 §5.33).
    for (const a of request.attributes) if (a.type === Attr.ProxyState) attrs.push(a);
    const code = d.kind === 'accept' ? Code.AccessAccept : d.kind === 'reject' ? Code.AccessReject : Code.AccessChallenge;
    return [code, request, attrs];
  }
}
