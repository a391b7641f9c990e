/**
 * A minimal RADIUS client for probes and load in tests (no radclient): Access-Requests with PAP and a
 * Message-Authenticator, from one UDP socket, each waited for with a bound. Replies are matched by
 * Identifier and checked with the Response Authenticator, as a NAS would (RFC 2865 §3).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { checkResponseAuthenticator, encodeRequest, hidePassword } from '../../src/radius/crypto.ts';
import { Attr, Code, parsePacket, type Attribute } from '../../src/radius/packet.ts';

export type ProbeResult = 'accept' | 'reject' | 'challenge' | 'none';

/** A NAS on 127.0.0.1 talking to one server port. */
export class RadiusProbe {
  private readonly socket: Socket;
  private readonly pending = new Map<number, { authenticator: Buffer; resolve: (r: ProbeResult) => void; timer: NodeJS.Timeout }>();
  private nextId = 0;
  private closed = false;

  private constructor(
    socket: Socket,
    private readonly port: number,
    private readonly secret: Buffer,
  ) {
    this.socket = socket;
    socket.on('message', (msg) => {
      let p;
      try {
        p = parsePacket(msg);
      } catch {
        return;
      }
      const w = this.pending.get(p.identifier);
      if (!w || !checkResponseAuthenticator(p, w.authenticator, this.secret)) return;
      this.pending.delete(p.identifier);
      clearTimeout(w.timer);
      w.resolve(p.code === Code.AccessAccept ? 'accept' : p.code === Code.AccessReject ? 'reject' : p.code === Code.AccessChallenge ? 'challenge' : 'none');
    });
  }

  static async open(port: number, secret: string, localAddress = '127.0.0.1'): Promise<RadiusProbe> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, localAddress, () => resolve());
    });
    return new RadiusProbe(socket, port, Buffer.from(secret));
  }

  /** One PAP Access-Request; 'none' when no valid reply came within `timeoutMs`. */
  request(user: string, password: string, timeoutMs = 2000, extra: Attribute[] = []): Promise<ProbeResult> {
    if (this.closed) return Promise.resolve('none');
    // 256 identifiers in flight at most: wait for a free one rather than reuse a pending one.
    let id = -1;
    for (let i = 0; i < 256; i++) {
      const candidate = (this.nextId + i) & 0xff;
      if (!this.pending.has(candidate)) {
        id = candidate;
        break;
      }
    }
    if (id < 0) return new Promise((r) => setTimeout(r, 5)).then(() => this.request(user, password, timeoutMs, extra));
    this.nextId = (id + 1) & 0xff;
    const authenticator = randomBytes(16);
    const datagram = encodeRequest(id, authenticator, [
      { type: Attr.UserName, value: Buffer.from(user) },
      { type: Attr.UserPassword, value: hidePassword(Buffer.from(password), this.secret, authenticator) },
      ...extra,
    ], this.secret);
    return new Promise<ProbeResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve('none');
      }, timeoutMs);
      this.pending.set(id, { authenticator, resolve, timer });
      this.socket.send(datagram, this.port, '127.0.0.1');
    });
  }

  close(): void {
    this.closed = true;
    for (const w of this.pending.values()) {
      clearTimeout(w.timer);
      w.resolve('none');
    }
    this.pending.clear();
    this.socket.close();
  }
}
