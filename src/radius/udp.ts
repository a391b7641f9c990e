/**
 * The local server's UDP socket: it only moves bytes between the network and RadiusServer.handle,
 * bound on `server auth-port` while `server enable` (util/listener.ts follows the config).
 */
import { createSocket, type Socket } from 'node:dgram';
import { canonicalIp, isV6 } from '../util/ip.ts';
import type { Binder } from '../util/listener.ts';
import type { Log } from '../util/log.ts';
import type { RadiusServer } from './server.ts';

export function udpBinder(server: RadiusServer, log: Log, name = 'radius'): Binder<Socket> {
  return {
    name,
    async open({ port, host }) {
      // `::` is dual-stack: IPv4 clients arrive as ::ffff:a.b.c.d and are un-mapped below.
      const socket = createSocket({ type: isV6(host) ? 'udp6' : 'udp4', ipv6Only: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      }).catch((e: unknown) => {
        socket.close();
        throw e;
      });
      let open = true;
      socket.on('close', () => (open = false));
      socket.on('message', (msg, rinfo) => {
        server.handle(msg, { address: canonicalIp(rinfo.address) ?? rinfo.address, port: rinfo.port }).then(
          (reply) => {
            if (reply && open) socket.send(reply, rinfo.port, rinfo.address);
          },
          // One bad packet must never take the daemon down (an unhandled rejection would).
          (e: unknown) => log.error('radius-internal-error', { client: rinfo.address, message: (e as Error).message }),
        );
      });
      socket.on('error', (e) => log.error('radius-socket-error', { message: e.message }));
      return socket;
    },
    close: (socket) => void socket.close(),
  };
}
