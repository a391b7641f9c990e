/**
 * RADIUS client for the first factor (SPEC §6): Access-Requests with Message-Authenticator first to
 * the configured hosts in order, each tried `retransmit + 1` times `timeout` seconds apart; a host that
 * never answers is skipped for `deadtime` minutes. Replies are checked (Response Authenticator, and
 * Message-Authenticator when present) before they count; anything else is ignored like silence.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { checkMessageAuthenticator, checkResponseAuthenticator, encodeRequest, hidePassword } from './crypto.ts';
import { Attr, Code, parsePacket, text } from './packet.ts';
import type { UpstreamHost } from './types.ts';

export type UpstreamAnswer = 'accept' | 'reject' | 'timeout';

/** Per-host outcomes for `show radius statistics`. */
export interface HostCounters {
  requests: number;
  accepts: number;
  rejects: number;
  timeouts: number;
  /** Replies ignored: bad authenticator, bad Message-Authenticator, unexpected code. */
  badReplies: number;
}

export class UpstreamClient {
  /** `address:port` → when its deadtime ends (ms, monotonic). */
  private readonly deadUntil = new Map<string, number>();
  readonly counters = new Map<string, HostCounters>();

  constructor(private readonly now: () => number) {}

  private counter(id: string): HostCounters {
    let c = this.counters.get(id);
    if (!c) this.counters.set(id, (c = { requests: 0, accepts: 0, rejects: 0, timeouts: 0, badReplies: 0 }));
    return c;
  }

  /** Asks the hosts in order; the first definite answer wins. */
  async authenticate(
    hosts: readonly UpstreamHost[],
    user: string,
    password: Buffer,
    opts: { timeout: number; retransmit: number; deadtime: number },
  ): Promise<UpstreamAnswer> {
    const alive = hosts.filter((h) => (this.deadUntil.get(`${h.address}:${h.authPort}`) ?? 0) <= this.now());
    // All dead: try them anyway rather than refuse every login until a deadtime ends.
    for (const host of alive.length ? alive : hosts) {
      const id = `${host.address}:${host.authPort}`;
      const answer = await this.ask(host, user, password, opts, this.counter(id));
      if (answer !== 'timeout') {
        this.deadUntil.delete(id);
        return answer;
      }
      if (opts.deadtime > 0) this.deadUntil.set(id, this.now() + opts.deadtime * 60_000);
    }
    return 'timeout';
  }

  private ask(host: UpstreamHost, user: string, password: Buffer, opts: { timeout: number; retransmit: number }, c: HostCounters): Promise<UpstreamAnswer> {
    const secret = Buffer.from(host.key, 'utf8');
    const authenticator = randomBytes(16);
    const identifier = randomBytes(1)[0]!;
    const request = encodeRequest(
      identifier,
      authenticator,
      [
        { type: Attr.UserName, value: text(user) },
        { type: Attr.UserPassword, value: hidePassword(password, secret, authenticator) },
        { type: Attr.NasIdentifier, value: text('awplus-2fa') },
      ],
      secret,
    );
    c.requests++;
    return new Promise((resolve) => {
      const socket = createSocket(host.address.includes(':') ? 'udp6' : 'udp4');
      let sends = 0;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (answer: UpstreamAnswer) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        socket.close();
        if (answer === 'accept') c.accepts++;
        else if (answer === 'reject') c.rejects++;
        else c.timeouts++;
        resolve(answer);
      };
      const send = () => {
        if (done) return;
        if (sends > opts.retransmit) return finish('timeout');
        sends++;
        socket.send(request, host.authPort, host.address);
        timer = setTimeout(send, opts.timeout * 1000);
      };
      socket.on('message', (msg) => {
        let reply;
        try {
          reply = parsePacket(msg);
        } catch {
          c.badReplies++;
          return;
        }
        const ma = checkMessageAuthenticator(reply, secret, authenticator);
        if (reply.identifier !== identifier || ma === false || !checkResponseAuthenticator(reply, authenticator, secret)) {
          c.badReplies++;
          return;
        }
        // An upstream Access-Challenge cannot be relayed on this path: it counts as a reject.
        if (reply.code === Code.AccessAccept) finish('accept');
        else if (reply.code === Code.AccessReject || reply.code === Code.AccessChallenge) finish('reject');
        else c.badReplies++;
      });
      socket.on('error', () => finish('timeout'));
      send();
    });
  }
}
