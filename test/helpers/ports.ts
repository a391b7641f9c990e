/**
 * Ports for the servers a test starts: taken from the kernel (port 0) and given back, so parallel test
 * files do not collide on fixed numbers. A port is free "a moment ago"; the server under test binds it next.
 */
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

/** A TCP port of 127.0.0.1 held by a server of ours until `server` is closed. */
export async function occupyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const { port, server } = await occupyPort();
  await new Promise((r) => server.close(r));
  return port;
}

/** A UDP port of 127.0.0.1 that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}
