/**
 * A small UDP server that answers NTP requests with replies the test crafts: hostile or broken servers
 * (kiss-o'-death, unsynchronised, forged originate, …) that a real daemon will not impersonate on demand.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { toNtpTimestamp } from '../../src/time/sntp.ts';

export interface ReplyFields {
  leap?: number;
  version?: number;
  mode?: number;
  stratum?: number;
  refid?: string | Buffer;
  /** Added to the host clock for the receive and transmit timestamps. */
  offsetMs?: number;
  /** Overrides the originate timestamp (default: the request's transmit timestamp). */
  originate?: bigint;
  receive?: bigint;
  transmit?: bigint;
  length?: number;
}

/** A reply to `req` as a server would build it (RFC 4330 §5 server side), with `f` overriding fields. */
export function reply(req: Buffer, f: ReplyFields = {}): Buffer {
  const buf = Buffer.alloc(f.length ?? 48);
  const full = Buffer.alloc(48);
  const t = toNtpTimestamp(Date.now() + (f.offsetMs ?? 0));
  full[0] = ((f.leap ?? 0) << 6) | ((f.version ?? 4) << 3) | (f.mode ?? 4);
  full[1] = f.stratum ?? 2;
  full[2] = 6;
  full[3] = -20 & 0xff;
  const refid = typeof f.refid === 'string' ? Buffer.from(f.refid.padEnd(4, '\0'), 'latin1') : (f.refid ?? Buffer.from([10, 0, 0, 1]));
  refid.copy(full, 12, 0, 4);
  full.writeBigUInt64BE(t, 16);
  full.writeBigUInt64BE(f.originate ?? req.readBigUInt64BE(40), 24);
  full.writeBigUInt64BE(f.receive ?? t, 32);
  full.writeBigUInt64BE(f.transmit ?? t, 40);
  full.copy(buf, 0, 0, Math.min(48, buf.length));
  return buf;
}

export class FakeNtp {
  requests = 0;
  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {}

  /**
   * Starts a server on `address`; `respond` returns the datagrams to send back for each request
   * (none: stay silent). It may be replaced later through `respond`.
   */
  static async start(respond: (req: Buffer, from: RemoteInfo) => Buffer[] | Buffer | undefined, address = '127.0.0.1'): Promise<FakeNtp> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    const server = new FakeNtp(socket, address, socket.address().port);
    server.respond = respond;
    socket.on('message', (req, from) => {
      server.requests++;
      const out = server.respond(req, from);
      for (const b of out === undefined ? [] : Array.isArray(out) ? out : [out]) socket.send(b, from.port, from.address);
    });
    return server;
  }

  respond: (req: Buffer, from: RemoteInfo) => Buffer[] | Buffer | undefined = () => undefined;

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
