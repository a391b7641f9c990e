/**
 * A client of one OpenVPN server's management interface over TCP on 127.0.0.1
 * (management-notes.txt). Commands are answered in order with `SUCCESS:`/`ERROR:` or, for reports
 * such as `status 3`, lines up to `END`; real-time notifications (lines starting with `>`) may
 * arrive between them at any time and are handed to listeners.
 */
import { connect, type Socket } from 'node:net';
import { ClientEventParser, LineSplitter, type ClientEvent } from './management-protocol.ts';

export interface ManagementConnectOptions {
  readonly port: number;
  /** The password in the server's `management … pw-file`. */
  readonly password: string;
  /** Keep trying this long while the server is still opening its socket. */
  readonly timeoutMs: number;
  /** Bound on each command's answer. */
  readonly commandTimeoutMs?: number;
  /**
   * Listeners in place before the first notification is read: whatever arrived with the password
   * answer (a CLIENT request on a reconnection) is delivered to them, not lost.
   */
  readonly onClient?: (e: ClientEvent) => void;
  readonly onNotice?: (line: string) => void;
  /** Gives up early (the server process died while we were still trying). */
  readonly signal?: AbortSignal;
}

interface Pending {
  readonly multi: boolean;
  readonly lines: string[];
  readonly resolve: (lines: string[]) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const PASSWORD_PROMPT = 'ENTER PASSWORD:';

export class ManagementClient {
  private readonly splitter = new LineSplitter();
  private readonly parser = new ClientEventParser();
  private readonly queue: Pending[] = [];
  private readonly clientListeners: ((e: ClientEvent) => void)[] = [];
  private readonly noticeListeners: ((line: string) => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly commandTimeoutMs: number,
  ) {
    socket.on('data', (d: Buffer) => this.receive(this.splitter.push(d)));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClosed());
  }

  /**
   * Connects (retrying while the port is not open yet), answers the password prompt and resolves
   * once the server said `SUCCESS: password is correct`.
   */
  static async connect(o: ManagementConnectOptions): Promise<ManagementClient> {
    // Elapsed time on the monotonic clock: a bound, not appliance time (the appliance clock can be set).
    const deadline = performance.now() + o.timeoutMs;
    let lastError = 'no attempt';
    while (performance.now() < deadline) {
      if (o.signal?.aborted) throw new Error(`gave up connecting to the management interface: ${String(o.signal.reason ?? 'aborted')}`);
      try {
        return await ManagementClient.attempt(o, deadline - performance.now());
      } catch (e) {
        lastError = (e as Error).message;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`management interface on 127.0.0.1:${o.port} did not answer within ${o.timeoutMs} ms (${lastError})`);
  }

  private static attempt(o: ManagementConnectOptions, budgetMs: number): Promise<ManagementClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port: o.port, host: '127.0.0.1' });
      const splitter = new LineSplitter();
      let sentPassword = false;
      const fail = (why: string) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(why));
      };
      const timer = setTimeout(() => fail('no password prompt'), Math.max(budgetMs, 50));
      const onData = (d: Buffer) => {
        const lines = splitter.push(d);
        // The prompt has no line break after it (management-notes.txt: pw-file).
        if (!sentPassword && splitter.rest.startsWith(PASSWORD_PROMPT)) {
          splitter.consume(PASSWORD_PROMPT.length);
          sentPassword = true;
          socket.write(`${o.password}\n`);
        }
        for (const [i, line] of lines.entries()) {
          if (line.startsWith('SUCCESS: password is correct')) {
            clearTimeout(timer);
            socket.off('data', onData);
            socket.off('error', onError);
            socket.off('close', onClose);
            const client = new ManagementClient(socket, o.commandTimeoutMs ?? 10_000);
            if (o.onClient) client.onClient(o.onClient);
            if (o.onNotice) client.onNotice(o.onNotice);
            // Whatever followed in the same chunk (the >INFO banner, a CLIENT request) is still to
            // be read: the complete lines, then the unfinished one.
            client.receive(lines.slice(i + 1));
            const rest = splitter.rest;
            if (rest) client.receive(client.splitter.push(Buffer.from(rest, 'latin1')));
            resolve(client);
            return;
          }
          if (line.startsWith('ERROR')) return fail(`management interface refused the password: ${line}`);
        }
      };
      const onError = (e: Error) => fail(e.message);
      const onClose = () => fail('connection closed during login');
      socket.on('data', onData);
      socket.once('error', onError);
      socket.once('close', onClose);
    });
  }

  /** Called with each complete `>CLIENT:` notification. */
  onClient(f: (e: ClientEvent) => void): void {
    this.clientListeners.push(f);
  }

  /** Called with every other real-time line (`>HOLD:`, `>INFO:`, `>FATAL:` …). */
  onNotice(f: (line: string) => void): void {
    this.noticeListeners.push(f);
  }

  /** Called once when the connection is gone (server exited, or close()). */
  onClose(f: () => void): void {
    if (this.closed) f();
    else this.closeListeners.push(f);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends a command answered by one `SUCCESS:` line; resolves with its text, rejects on `ERROR:`. */
  async command(text: string): Promise<string> {
    const lines = await this.send(text, false);
    return lines[0]!;
  }

  /** Sends a command answered by lines up to `END` (`status 3`); resolves with them. */
  report(text: string): Promise<string[]> {
    return this.send(text, true);
  }

  /**
   * Sends a command whose text spans several lines (`client-auth CID KID` … `END`); answered by one
   * `SUCCESS:`/`ERROR:` line after the block.
   */
  async block(lines: readonly string[]): Promise<string> {
    const answer = await this.send(lines.join('\n'), false);
    return answer[0]!;
  }

  close(): void {
    this.socket.destroy();
  }

  private send(text: string, multi: boolean): Promise<string[]> {
    if (this.closed) return Promise.reject(new Error('management connection is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // An unanswered command leaves us unable to tell which answer is whose: start over.
        reject(new Error(`no answer to "${text.split(/[\s\n]/)[0]}" within ${this.commandTimeoutMs} ms`));
        this.socket.destroy();
      }, this.commandTimeoutMs);
      this.queue.push({ multi, lines: [], resolve, reject, timer });
      this.socket.write(`${text}\n`);
    });
  }

  private receive(lines: string[]): void {
    for (const line of lines) {
      if (line.startsWith('>CLIENT:')) {
        const e = this.parser.line(line.slice('>CLIENT:'.length));
        if (e) for (const f of this.clientListeners) f(e);
        continue;
      }
      if (line.startsWith('>')) {
        for (const f of this.noticeListeners) f(line);
        continue;
      }
      const head = this.queue[0];
      if (!head) continue;
      if (line.startsWith('ERROR:') && head.lines.length === 0) {
        this.queue.shift();
        clearTimeout(head.timer);
        head.reject(new Error(line));
      } else if (!head.multi) {
        if (!line.startsWith('SUCCESS:')) continue;
        this.queue.shift();
        clearTimeout(head.timer);
        head.resolve([line]);
      } else if (line === 'END') {
        this.queue.shift();
        clearTimeout(head.timer);
        head.resolve(head.lines);
      } else {
        head.lines.push(line);
      }
    }
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.queue.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new Error('management connection closed'));
    }
    for (const f of this.closeListeners.splice(0)) f();
  }
}
