/**
 * `awplus connect`: the client side of the control socket (see control-socket.ts for the protocol).
 * Interactive on a TTY (raw keystrokes, window size frames), script mode otherwise, with the
 * daemon's exit status.
 */
import { connect as netConnect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { msg } from '../cli/messages.ts';
import { CONTROL_SOCKET } from './control-socket.ts';

/** Connects to the daemon owning `flashDir`; resolves to the process exit status. */
export function connectToDaemon(
  flashDir: string,
  stdin: NodeJS.ReadStream,
  stdout: NodeJS.WriteStream,
  stderr: NodeJS.WriteStream,
): Promise<number> {
  return new Promise((resolve) => {
    const path = join(flashDir, CONTROL_SOCKET);
    const socket = netConnect(path);
    const tty = Boolean(stdin.isTTY);
    let status: number | undefined;
    let trailer: number[] | undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? msg.noDaemon : e.message;
      stderr.write(`${msg.connectFailed(path, why)}\n`);
      resolve(1);
    });
    socket.on('connect', () => {
      socket.write(JSON.stringify({ tty, columns: stdout.columns ?? 80, rows: stdout.rows ?? 24, user: userInfo().username }) + '\n');
      if (tty) {
        stdin.setRawMode(true);
        stdout.on('resize', () => socket.write(`\0${JSON.stringify({ columns: stdout.columns, rows: stdout.rows })}\n`));
      }
      stdin.pipe(socket);
    });
    socket.on('data', (chunk: Buffer) => {
      if (tty) return void stdout.write(chunk);
      // Script mode: everything before the NUL is output; after it comes `EXIT <status>`.
      const nul = trailer ? 0 : chunk.indexOf(0);
      if (!trailer && nul < 0) return void stdout.write(chunk);
      if (!trailer) {
        stdout.write(chunk.subarray(0, nul));
        trailer = [];
        chunk = chunk.subarray(nul + 1);
      }
      trailer.push(...chunk);
    });
    socket.on('close', () => {
      if (tty) stdin.setRawMode(false);
      stdin.unpipe(socket);
      stdin.pause();
      if (trailer) {
        const m = /^EXIT (\d+)/.exec(Buffer.from(trailer).toString('utf8'));
        status = m ? Number(m[1]) : 1;
      }
      resolve(tty ? 0 : (status ?? 1));
    });
  });
}
