/**
 * A small TFTP client (RFC 1350): read one file in octet mode. The server answers from a new port
 * (its TID) and every later packet must come from it (RFC 1350 §4); blocks of 512 octets are
 * acknowledged one by one, a short block ends the transfer, a lost packet is sent again after
 * `timeoutMs`, up to `retries` times.
 */
import { createSocket } from 'node:dgram';

const RRQ = 1;
const DATA = 3;
const ACK = 4;
const ERROR = 5;
const BLOCK = 512;

/** A failed transfer, with the server's message when it sent one. */
export class TftpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TftpError';
  }
}

export interface TftpOptions {
  readonly timeoutMs?: number;
  readonly retries?: number;
  /** Refuse files larger than this (the appliance's flash is not unlimited). */
  readonly maxBytes?: number;
  /** Gives up at once when aborted (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** Reads `file` from `host:port`. */
export function tftpGet(host: string, port: number, file: string, o: TftpOptions = {}): Promise<Buffer> {
  const timeoutMs = o.timeoutMs ?? 2000;
  const retries = o.retries ?? 3;
  const maxBytes = o.maxBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const chunks: Buffer[] = [];
    let size = 0;
    let expected = 1;
    let tid: number | undefined;
    let last = Buffer.concat([Buffer.from([0, RRQ]), Buffer.from(`${file}\0octet\0`, 'latin1')]);
    let lastPort = port;
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    let over = false;
    const onAbort = () => done(new TftpError('interrupted'));
    const done = (error: Error | undefined, data?: Buffer) => {
      if (over) return;
      over = true;
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (error) reject(error);
      else resolve(data!);
    };
    if (o.signal?.aborted) return done(new TftpError('interrupted'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const send = () => {
      socket.send(last, lastPort, host);
      timer = setTimeout(() => {
        if (++tries > retries) return done(new TftpError(`no answer from ${host}:${port}`));
        send();
      }, timeoutMs);
    };
    socket.on('message', (msg, rinfo) => {
      if (rinfo.address !== host && !(host === 'localhost' && rinfo.address === '127.0.0.1')) return;
      if (tid === undefined) tid = rinfo.port;
      else if (rinfo.port !== tid) {
        // RFC 1350 §4: a packet from an unknown TID gets an error, the transfer goes on.
        socket.send(Buffer.concat([Buffer.from([0, ERROR, 0, 5]), Buffer.from('Unknown transfer ID\0')]), rinfo.port, rinfo.address);
        return;
      }
      const op = msg.readUInt16BE(0);
      if (op === ERROR) return done(new TftpError(msg.subarray(4).toString('latin1').replace(/\0.*$/s, '') || 'error'));
      if (op !== DATA || msg.length < 4) return done(new TftpError('unexpected packet'));
      const block = msg.readUInt16BE(2);
      const data = msg.subarray(4);
      if (block === (expected & 0xffff)) {
        chunks.push(Buffer.from(data));
        size += data.length;
        if (size > maxBytes) return done(new TftpError('file too large'));
        expected++;
        tries = 0;
      }
      // Acknowledge what we got (also a duplicate of the previous block, so a lost ACK is repaired).
      if (timer) clearTimeout(timer);
      last = Buffer.from([0, ACK, block >> 8, block & 0xff]);
      lastPort = tid;
      if (block === ((expected - 1) & 0xffff) && data.length < BLOCK) {
        socket.send(last, tid, host);
        return done(undefined, Buffer.concat(chunks));
      }
      send();
    });
    socket.on('error', (e) => done(new TftpError(e.message)));
    send();
  });
}
