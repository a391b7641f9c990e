/**
 * The local server's UDP socket: binding only (no retransmit logic). Follows the config like the SSH
 * listener: bound on `server auth-port` while `server enable`, closed otherwise.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Log } from '../util/log.ts';
import type { RadiusServer } from './server.ts';

export class RadiusUdp {
  private socket: Socket | undefined;
  private port: number | undefined;
  private error: string | undefined;
  private applying: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly server: RadiusServer,
    private readonly log: Log,
  ) {}

  status(): { listening: boolean; port: number | undefined; error: string | undefined } {
    return { listening: this.socket !== undefined, port: this.port, error: this.error };
  }

  /** Binds, re-binds or closes to match `want` (undefined = disabled); resolves to an error text. */
  apply(want: number | undefined): Promise<string | undefined> {
    const run = this.applying.then(() => this.reconcile(want));
    this.applying = run;
    return run;
  }

  private async reconcile(want: number | undefined): Promise<string | undefined> {
    if (want === this.port && (want === undefined || this.socket)) return undefined;
    this.socket?.close();
    this.socket = undefined;
    this.port = undefined;
    this.error = undefined;
    if (want === undefined) return undefined;
    const socket = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(want, '0.0.0.0', () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      socket.close();
      this.error = `${(e as NodeJS.ErrnoException).code ?? (e as Error).message} on port ${want}`;
      this.log.error('radius-listen-failed', { port: want, error: this.error });
      return this.error;
    }
    socket.on('message', (msg, rinfo) => {
      this.server.handle(msg, { address: rinfo.address, port: rinfo.port }).then(
        (reply) => {
          if (reply && this.socket === socket) socket.send(reply, rinfo.port, rinfo.address);
        },
        // One bad packet must never take the daemon down (an unhandled rejection would).
        (e: unknown) => this.log.error('radius-internal-error', { client: rinfo.address, message: (e as Error).message }),
      );
    });
    socket.on('error', (e) => this.log.error('radius-socket-error', { message: e.message }));
    this.socket = socket;
    this.port = want;
    this.log.info('radius-listening', { port: want });
    return undefined;
  }

  async stop(): Promise<void> {
    await this.apply(undefined);
  }
}
