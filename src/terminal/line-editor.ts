/**
 * A per-session line editor over ANY pair of streams (console TTY, control socket, SSH channel, a
 * PassThrough in tests), built on node:readline (SPEC §1). Keys are decoded with
 * `emitKeypressEvents` on the real input; readline gets a dummy input and only the keys we pass on
 * with `rl.write(s, key)` (shared/research/deps.md §1, way (b)), so `?`, TAB, Ctrl-Z, Ctrl-C,
 * secret questions and the `--More--` pager are ours while readline keeps editing and history.
 * Everything written goes out with `\r\n` line ends: the peer may be a raw pty.
 */
import { EventEmitter } from 'node:events';
import { createInterface, emitKeypressEvents, type Interface, type Key } from 'node:readline';
import { PassThrough, Writable } from 'node:stream';

/** What `readCommand` returns. */
export type CommandInput = { readonly kind: 'line'; readonly line: string } | { readonly kind: 'ctrl-z' } | { readonly kind: 'eof' };

/** The session hooks `readCommand` needs for `?` and TAB. */
export interface EditHooks {
  help(line: string): string;
  complete(line: string): { line: string; candidates: readonly string[] };
}

/** Streams and window size of a terminal. */
export interface TerminalStreams {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  readonly columns?: number;
  readonly rows?: number;
}

/** Lone `\n` → `\r\n`. */
const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

const MORE = '--More--';

/** readline's own state, which the documented API reads but cannot set (guarded by tests). */
interface ReadlineInternals {
  line: string;
  cursor: number;
  prevRows: number;
  historyIndex: number;
}

/** Keys typed ahead while a command runs are kept up to this many (a paste, not a flood). */
const MAX_QUEUED = 4096;

/** The output readline draws on: converts line ends and carries the window size readline wraps to. */
class TerminalOutput extends Writable {
  columns: number;
  rows: number;

  constructor(
    private readonly target: NodeJS.WritableStream,
    columns: number,
    rows: number,
  ) {
    super({ decodeStrings: false });
    this.columns = columns;
    this.rows = rows;
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if ((this.target as Writable).writableEnded || (this.target as Writable).destroyed) return done();
    this.target.write(crlf(text), () => done());
  }
}

type Mode =
  | { kind: 'idle' }
  | { kind: 'command'; hooks: EditHooks; done: (r: CommandInput) => void }
  | { kind: 'question'; secret: boolean; buffer: string; done: (answer: string | null) => void }
  | { kind: 'more'; done: (key: 'page' | 'line' | 'quit') => void };

/** One terminal's line editor. */
export class LineEditor {
  private readonly out: TerminalOutput;
  private readonly rl: Interface;
  private mode: Mode = { kind: 'idle' };
  /** Called for Ctrl-C while no input is being read (a command runs). */
  private interruptHandler: (() => void) | undefined;
  /** Keys typed while no input was being read (type-ahead), replayed at the next read. */
  private readonly queued: { s: string | undefined; key: Key }[] = [];
  private ended = false;
  /** The last key was CR: a following LF is the second half of a CRLF line end and is dropped. */
  private afterReturn = false;
  /** The input stream ended; keys typed ahead are still replayed before reads see EOF. */
  private inputEnded = false;
  private readonly onKeypress = (s: string | undefined, key: Key | undefined) => {
    const k = key ?? { sequence: s ?? '' };
    const crlf = k.name === 'enter' && this.afterReturn;
    this.afterReturn = k.name === 'return';
    if (!crlf) this.key(s, k);
  };
  private readonly onEnd = () => {
    this.inputEnded = true;
    if (this.queued.length === 0) this.end();
  };

  constructor(private readonly streams: TerminalStreams) {
    this.out = new TerminalOutput(streams.output, streams.columns || 80, streams.rows || 24);
    this.rl = createInterface({ input: new PassThrough(), output: this.out, terminal: true, historySize: 50, removeHistoryDuplicates: false, tabSize: 8 });
    this.rl.on('line', (line) => {
      if (this.mode.kind !== 'command') return;
      const { done } = this.mode;
      this.mode = { kind: 'idle' };
      done({ kind: 'line', line });
    });
    emitKeypressEvents(streams.input as NodeJS.ReadableStream & EventEmitter);
    streams.input.on('keypress', this.onKeypress);
    streams.input.on('end', this.onEnd);
    streams.input.on('close', this.onEnd);
    // A socket or PassThrough only emits keypress events while it flows.
    (streams.input as NodeJS.ReadableStream).resume();
  }

  /** Reads one command line at `prompt` with `?` help, TAB completion and history. */
  readCommand(prompt: string, hooks: EditHooks): Promise<CommandInput> {
    if (this.ended) return Promise.resolve({ kind: 'eof' });
    return new Promise((done) => {
      this.mode = { kind: 'command', hooks, done };
      this.rl.setPrompt(prompt);
      this.setLine('');
      this.redraw();
      this.replayQueued();
    });
  }

  /** Reads one line for a login name, a password (`secret`: nothing echoed) or a confirmation; null at EOF. */
  question(prompt: string, opts: { secret: boolean }): Promise<string | null> {
    if (this.ended) return Promise.resolve(null);
    this.write(prompt);
    return new Promise((done) => {
      this.mode = { kind: 'question', secret: opts.secret, buffer: '', done };
      this.replayQueued();
    });
  }

  /**
   * While a command runs, Ctrl-C calls `handler` at once instead of waiting in the type-ahead queue
   * (IOS/AW+: Ctrl-C aborts a command that waits). Returns the way to stop.
   */
  onInterrupt(handler: () => void): () => void {
    this.interruptHandler = handler;
    return () => {
      if (this.interruptHandler === handler) this.interruptHandler = undefined;
    };
  }

  /** Writes text (`\n` becomes `\r\n`). */
  write(text: string): void {
    if (text) this.out.write(text);
  }

  /** Prints command output, pausing every `linesPerPage - 1` lines at `--More--` (0 = no paging). */
  async page(text: string, linesPerPage: number): Promise<void> {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (linesPerPage <= 0 || lines.length < linesPerPage) return this.write(text);
    const pageLines = Math.max(1, linesPerPage - 1);
    let i = 0;
    let budget = pageLines;
    while (i < lines.length) {
      this.write(lines.slice(i, i + budget).join('\n') + '\n');
      i += budget;
      if (i >= lines.length || this.ended) break;
      this.write(MORE);
      const key = await new Promise<'page' | 'line' | 'quit'>((done) => {
        this.mode = { kind: 'more', done };
        this.replayQueued();
      });
      this.write(`\r${' '.repeat(MORE.length)}\r`);
      if (key === 'quit') break;
      budget = key === 'page' ? pageLines : 1;
    }
  }

  /**
   * New window size (SSH window-change, console SIGWINCH). readline redraws its prompt and line on
   * 'resize', so it only gets one while a command line is being edited; otherwise the next
   * `readCommand` draws with the new width anyway.
   */
  setSize(columns: number, rows: number): void {
    this.out.columns = columns || 80;
    this.out.rows = rows || 24;
    if (this.mode.kind === 'command') this.out.emit('resize');
  }

  /** Abandons a pending read (the session ended underneath it): it resolves as EOF, input stays open. */
  abort(): void {
    const mode = this.mode;
    this.mode = { kind: 'idle' };
    this.setLine('');
    if (mode.kind === 'command') {
      this.write('\n');
      mode.done({ kind: 'eof' });
    } else if (mode.kind === 'question') mode.done(null);
    else if (mode.kind === 'more') mode.done('quit');
  }

  /** Stops reading; a pending read ends as EOF. */
  close(): void {
    this.streams.input.off('keypress', this.onKeypress);
    this.streams.input.off('end', this.onEnd);
    this.streams.input.off('close', this.onEnd);
    this.end();
    this.rl.close();
    // We made the input flow; a console's stdin must not keep the process alive after us.
    this.streams.input.pause();
  }

  private end(): void {
    this.ended = true;
    const mode = this.mode;
    this.mode = { kind: 'idle' };
    if (mode.kind === 'command') mode.done({ kind: 'eof' });
    else if (mode.kind === 'question') mode.done(null);
    else if (mode.kind === 'more') mode.done('quit');
  }

  private replayQueued(): void {
    while (this.queued.length > 0 && this.mode.kind !== 'idle') {
      const { s, key } = this.queued.shift()!;
      this.key(s, key);
    }
    if (this.inputEnded && this.queued.length === 0 && this.mode.kind !== 'idle') this.end();
  }

  private key(s: string | undefined, key: Key): void {
    const mode = this.mode;
    if (mode.kind === 'idle') {
      if (key.ctrl && key.name === 'c' && this.interruptHandler) {
        this.write('^C\n');
        return this.interruptHandler();
      }
      if (this.queued.length < MAX_QUEUED) this.queued.push({ s, key });
      return;
    }
    if (mode.kind === 'more') return this.moreKey(mode, s, key);
    if (mode.kind === 'question') return this.questionKey(mode, s, key);
    this.commandKey(mode, s, key);
  }

  private moreKey(mode: Extract<Mode, { kind: 'more' }>, s: string | undefined, key: Key): void {
    const answer = s === ' ' ? 'page' : key.name === 'return' || key.name === 'enter' ? 'line' : s === 'q' || s === 'Q' || (key.ctrl && key.name === 'c') ? 'quit' : undefined;
    if (!answer) return;
    this.mode = { kind: 'idle' };
    mode.done(answer);
  }

  private questionKey(mode: Extract<Mode, { kind: 'question' }>, s: string | undefined, key: Key): void {
    if (key.name === 'return' || key.name === 'enter') {
      this.mode = { kind: 'idle' };
      this.write('\n');
      mode.done(mode.buffer);
    } else if (key.name === 'backspace') {
      if (mode.buffer && !mode.secret) this.write('\b \b');
      mode.buffer = mode.buffer.slice(0, -1);
    } else if (key.ctrl && key.name === 'c') {
      this.mode = { kind: 'idle' };
      this.write('^C\n');
      mode.done('');
    } else if (key.ctrl && key.name === 'd' && mode.buffer === '') {
      // Ctrl-D on an empty answer is end of input (leaves the console at its login prompt).
      this.mode = { kind: 'idle' };
      this.write('\n');
      mode.done(null);
    } else if (key.ctrl && key.name === 'u') {
      if (!mode.secret) this.write('\b \b'.repeat(mode.buffer.length));
      mode.buffer = '';
    } else if (s && !key.ctrl && !key.meta && s >= ' ' && s !== '\x7f') {
      mode.buffer += s;
      if (!mode.secret) this.write(s);
    }
  }

  private commandKey(mode: Extract<Mode, { kind: 'command' }>, s: string | undefined, key: Key): void {
    const line = this.internals.line;
    if (s === '?') {
      // Immediate help: AW+ shows candidates without Enter and keeps the typed line (SPEC §3).
      this.toEnd();
      this.setLine(line);
      this.write(`?\n${mode.hooks.help(line)}`);
      this.redraw();
    } else if (key.name === 'tab') {
      const r = mode.hooks.complete(line);
      if (r.candidates.length > 0) this.toEnd();
      if (r.candidates.length > 0) this.write(`\n${this.columnsOf(r.candidates)}\n`);
      this.setLine(r.line);
      if (r.candidates.length > 0) this.redraw();
      else this.refresh();
    } else if (key.ctrl && key.name === 'z') {
      this.toEnd();
      this.write('^Z\n');
      this.setLine('');
      this.mode = { kind: 'idle' };
      mode.done({ kind: 'ctrl-z' });
    } else if (key.ctrl && key.name === 'c') {
      this.toEnd();
      this.write('^C\n');
      this.setLine('');
      this.redraw();
    } else if (key.ctrl && key.name === 'd') {
      // Ctrl-D deletes under the cursor; on an empty line it does nothing (no accidental logout).
      if (line) this.rl.write(undefined, key);
    } else {
      this.rl.write(s, key);
    }
  }

  /** Candidates in columns that fit the window. */
  private columnsOf(words: readonly string[]): string {
    const width = Math.max(...words.map((w) => w.length)) + 2;
    const perRow = Math.max(1, Math.floor(this.out.columns / width));
    const rows: string[] = [];
    for (let i = 0; i < words.length; i += perRow) rows.push(words.slice(i, i + perRow).map((w) => w.padEnd(width)).join('').trimEnd());
    return rows.join('\n');
  }

  private get internals(): ReadlineInternals {
    return this.rl as unknown as ReadlineInternals;
  }

  /** Replaces the edit line (cursor at its end); a new or discarded line also ends history browsing. */
  private setLine(line: string): void {
    const rl = this.internals;
    if (line === '') rl.historyIndex = -1;
    rl.line = line;
    rl.cursor = line.length;
  }

  /** Moves the terminal cursor to the end of the edit line (before echoing `?`, `^C`, a listing). */
  private toEnd(): void {
    if (this.internals.cursor < this.internals.line.length) this.rl.write(undefined, { ctrl: true, name: 'e' });
  }

  /** Draws prompt + line on a fresh row (after help or a listing). */
  private redraw(): void {
    this.internals.prevRows = 0;
    this.rl.prompt(true);
  }

  /** Redraws the current row in place (after TAB changed the line). */
  private refresh(): void {
    this.rl.prompt(true);
  }
}
