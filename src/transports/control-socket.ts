/**
 * The control socket of `awplus connect` (SPEC §2): a Unix socket inside the flash directory, owner-only.
 * Protocol: the client sends one JSON header line `{"tty":bool,"columns":N,"rows":N,"user":NAME}`.
 * - tty: raw keystrokes follow; a NUL byte starts an in-band control frame `\0{"columns":N,"rows":N}\n`
 *   (window size). The server runs a line editor over the socket, exactly as on the console.
 * - not a tty: input lines follow; the server runs script mode and ends with `\0EXIT <status>\n`.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runInteractive } from '../terminal/bind.ts';
import { LineEditor } from '../terminal/line-editor.ts';
import { lineSource, runScriptMode } from '../terminal/script-mode.ts';
import type { CliHost } from './cli-host.ts';

/** Name of the socket inside the flash directory (a dot-file: internal, not listed by `dir`). */
export const CONTROL_SOCKET = '.cli.sock';

/** The header a client sends first. */
export interface ConnectHeader {
  readonly tty: boolean;
  readonly columns?: number;
  readonly rows?: number;
  readonly user?: string;
}

const MAX_HEADER = 4096;

/** Splits raw client bytes into keystrokes (to `keys`) and control frames (to `onFrame`). */
function demux(keys: PassThrough, onFrame: (frame: Record<string, unknown>) => void): (chunk: Buffer) => void {
  let frame: number[] | undefined;
  return (chunk) => {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (frame) {
        if (b === 0x0a) {
          try {
            onFrame(JSON.parse(Buffer.from(frame).toString('utf8')));
          } catch {
            /* a malformed frame is ignored: it only carries a window size */
          }
          frame = undefined;
          start = i + 1;
        } else if (frame.length < MAX_HEADER) frame.push(b);
      } else if (b === 0) {
        if (i > start) keys.write(chunk.subarray(start, i));
        frame = [];
      }
    }
    if (!frame && start < chunk.length) keys.write(chunk.subarray(start));
  };
}

async function serveTty(host: CliHost, socket: Socket, header: ConnectHeader, rest: Buffer): Promise<void> {
  const keys = new PassThrough();
  const editor = new LineEditor({ input: keys, output: socket, columns: header.columns ?? 80, rows: header.rows ?? 24 });
  const session = host.openSession({
    source: 'connect',
    user: header.user ?? 'manager',
    userPrivilege: 15,
    enabled: true,
    location: 'local',
    terminalLength: header.rows ?? 24,
  });
  session.setWindow(header.columns ?? 80, header.rows ?? 24);
  const feed = demux(keys, (f) => {
    if (typeof f.columns === 'number' && typeof f.rows === 'number') {
      editor.setSize(f.columns, f.rows);
      session.setWindow(f.columns, f.rows);
    }
  });
  feed(rest);
  socket.on('data', feed);
  socket.on('end', () => keys.end());
  socket.on('close', () => session.close());
  try {
    await runInteractive(editor, session);
  } finally {
    session.close();
    editor.close();
    socket.end();
  }
}

async function serveScript(host: CliHost, socket: Socket, rest: Buffer): Promise<void> {
  const input = new PassThrough();
  input.write(rest);
  socket.pipe(input);
  const session = host.openSession({ source: 'connect', user: 'manager', userPrivilege: 15, enabled: true, location: 'local' });
  const lines = lineSource(input);
  let ok = false;
  try {
    ok = await runScriptMode(session, lines, (text) => void socket.write(text));
  } finally {
    lines.close();
    session.close();
    socket.end(`\0EXIT ${ok ? 0 : 1}\n`);
  }
}

function serve(host: CliHost, socket: Socket): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const nl = head.indexOf(0x0a);
    if (nl < 0) {
      if (head.length > MAX_HEADER) socket.destroy();
      return;
    }
    socket.off('data', onData);
    socket.pause();
    let header: ConnectHeader;
    try {
      header = JSON.parse(head.subarray(0, nl).toString('utf8')) as ConnectHeader;
    } catch {
      socket.destroy();
      return;
    }
    const rest = head.subarray(nl + 1);
    const run = header.tty ? serveTty(host, socket, header, rest) : serveScript(host, socket, rest);
    socket.resume();
    run.catch((e: unknown) => {
      host.log.error('control-socket-error', { message: e instanceof Error ? e.message : String(e) });
      socket.destroy();
    });
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

/** Listens on `DIR/.cli.sock` (owner-only). A leftover socket file is replaced: we hold the flash lock. */
export async function listenControlSocket(host: CliHost, flashDir: string): Promise<Server> {
  const path = join(flashDir, CONTROL_SOCKET);
  rmSync(path, { force: true });
  // Half-open: a script client ends its input first and still reads the output and the exit status.
  const server = createServer({ allowHalfOpen: true }, (socket) => serve(host, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return server;
}
