/** The parts of the untyped npm `tftp` package (a TFTP server for tests) that the tests use. */
declare module 'tftp' {
  import type { EventEmitter } from 'node:events';
  interface TftpServer extends EventEmitter {
    listen(): void;
    close(): void;
  }
  const tftp: {
    createServer(options: { host: string; port: number; root: string; denyPUT?: boolean }): TftpServer;
  };
  export default tftp;
}
