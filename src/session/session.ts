/**
 * An IO-free CLI session (ZebOS note, klish): a mode stack, a privilege level, history and terminal
 * settings over a compiled grammar. `execute`, `help` and `complete` return values; the driver
 * (terminal, script runner, boot loader, test) decides what to do with them.
 */
import type { Grammar, Mode } from '../cli/grammar/graph.ts';
import { completeLine, CR, formatHelp, helpFor, type HelpEntry } from '../cli/match/complete.ts';
import { matchLine, splitWords, type MatchResult } from '../cli/match/matcher.ts';
import { msg } from '../cli/messages.ts';
import { CommandError, type CommandContext, type HandlerTable, type SessionControl, type SessionSource } from './context.ts';
import { controlCharacterAt, terminalBlock } from '../util/terminal-text.ts';
import { FilterError, filterHelp, openFilter, splitFilter, type OpenFilter } from './output.ts';
import type { Completion, ExecResult, InteractiveSession, SessionHost } from './types.ts';

/** What every session of one appliance shares. */
export interface SessionEnvironment<S> {
  readonly grammar: Grammar;
  readonly handlers: HandlerTable<S>;
  readonly app: S;
  /** Current hostname for the prompt. */
  hostname(): string;
  /** The appliance clock (idle times). */
  now(): number;
  /** Reports a handler that threw something other than a CommandError. */
  internalError(error: unknown, line: string): void;
}

/** How a session starts. */
export interface SessionOptions {
  readonly id: number;
  readonly source: SessionSource;
  readonly user: string;
  readonly userPrivilege: number;
  /** Start at `#` (scripts, connect, privilege-15 SSH) rather than `>`. */
  readonly enabled: boolean;
  /** Lines per page (0 = no paging); AW+ pages interactive terminals only. */
  readonly terminalLength?: number;
  /** Whether the driver shows the prompt before the line (not for boot files or SSH exec): the `^` counts it. */
  readonly echoesPrompt?: boolean;
  readonly onClose?: () => void;
}

/** Lists grammar ids without handlers and handlers no grammar line uses (both are defects). */
export function checkBindings(grammar: Grammar, handlers: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const id of grammar.handlers) if (!handlers[id]) problems.push(`grammar binds "${id}" but no handler has that id`);
  for (const id of Object.keys(handlers)) if (!grammar.handlers.has(id)) problems.push(`handler "${id}" is bound by no grammar line`);
  return problems;
}

const EXEC = 'exec';
const HISTORY_MAX = 50;

/** One CLI session. */
export class Session<S> implements InteractiveSession, SessionControl {
  readonly id: number;
  readonly source: SessionSource;
  readonly user: string;
  readonly userPrivilege: number;
  privilege: number;
  terminalLength: number;
  columns = 80;
  rows = 24;
  /** When the last command was entered (for `show users` idle time). */
  lastActive: number;
  private readonly stack: { mode: Mode; context: unknown }[];
  private readonly historyLines: string[] = [];
  private host: SessionHost | undefined;
  private isOver = false;
  private settleClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.settleClosed = resolve));
  /** Output of the command now running, shown before any question it asks. */
  private buffer: string[] = [];
  /** Aborts the command now running (Ctrl-C). */
  private running: AbortController | undefined;
  private current = { line: '', promptWidth: 0 };
  /** Secret answers the command now running declared (`@secrets N`) and those it has asked for. */
  private secrets = { declared: 0, asked: 0 };

  constructor(
    private readonly env: SessionEnvironment<S>,
    private readonly options: SessionOptions,
  ) {
    this.id = options.id;
    this.source = options.source;
    this.user = options.user;
    this.userPrivilege = options.userPrivilege;
    this.privilege = options.enabled ? 15 : 1;
    this.terminalLength = options.terminalLength ?? 0;
    const exec = env.grammar.modes.get(EXEC);
    if (!exec) throw new Error('grammar has no exec mode');
    this.stack = [{ mode: exec, context: undefined }];
    this.lastActive = env.now();
  }

  get mode(): string {
    return this.top.mode.id;
  }

  get modeContext(): unknown {
    return this.top.context;
  }

  get history(): readonly string[] {
    return this.historyLines;
  }

  get isClosed(): boolean {
    return this.isOver;
  }

  private get top(): { mode: Mode; context: unknown } {
    return this.stack[this.stack.length - 1]!;
  }

  setHost(host: SessionHost): void {
    this.host = host;
  }

  setWindow(columns: number, rows: number): void {
    this.columns = columns > 0 ? columns : 80;
    this.rows = rows > 0 ? rows : 24;
  }

  prompt(): string {
    const level = this.privilege > 1 ? '#' : '>';
    return this.top.mode.prompt.replace('{hostname}', this.env.hostname()).replace('{level}', level);
  }

  // ---- SessionControl -------------------------------------------------------------------------

  enter(mode: string, context?: unknown): void {
    const m = this.env.grammar.modes.get(mode);
    if (!m) throw new Error(`unknown mode ${mode}`);
    this.stack.push({ mode: m, context });
  }

  exit(): void {
    if (this.stack.length > 1) this.stack.pop();
    else this.close();
  }

  end(): void {
    this.stack.length = 1;
  }

  close(): void {
    if (this.isOver) return;
    this.isOver = true;
    this.settleClosed();
    this.options.onClose?.();
  }

  ctrlZ(): void {
    this.end();
  }

  interrupt(): void {
    this.running?.abort();
  }

  async ask(question: string, opts: { secret?: boolean } = {}): Promise<string | null> {
    if (opts.secret) this.secrets.asked++;
    if (!this.host) return null;
    const pending = this.buffer.length ? this.buffer.join('\n') + '\n' : '';
    this.buffer = [];
    return this.host.ask(pending, question, { secret: opts.secret ?? false });
  }

  async runExec(line: string): Promise<void> {
    const at = this.current.line.indexOf(line.trimStart());
    const saved = this.stack.splice(1);
    try {
      await this.run(line, this.current.promptWidth + Math.max(0, at), true);
    } finally {
      if (!this.isOver && this.stack.length === 1) this.stack.push(...saved);
    }
  }

  // ---- InteractiveSession ---------------------------------------------------------------------

  async execute(line: string): Promise<ExecResult> {
    if (this.isOver) return { output: '', ok: false, closed: true };
    this.lastActive = this.env.now();
    this.buffer = [];
    this.secrets = { declared: 0, asked: 0 };
    this.current = { line, promptWidth: this.options.echoesPrompt === false || this.source === 'file' ? 0 : this.prompt().length };
    // No keyboard line holds a NUL, ESC or CR: such a line comes from a script or a program, and it
    // would reach the terminal (and the `connect` framing, where NUL ends the output) as it is.
    const bad = controlCharacterAt(line);
    if (bad >= 0) {
      this.caret(this.current.promptWidth + bad);
      this.buffer.push(msg.invalidInput);
      return this.result(false);
    }
    if (line.trim() !== '' && this.source !== 'file') {
      if (this.historyLines[this.historyLines.length - 1] !== line) this.historyLines.push(line);
      if (this.historyLines.length > HISTORY_MAX) this.historyLines.shift();
    }
    // `!` starts a comment line anywhere, so a saved config pastes back unchanged (AW+/IOS).
    if (line.trimStart().startsWith('!')) return { output: '', ok: true, closed: false };
    let ok: boolean;
    const running = (this.running = new AbortController());
    try {
      ok = await this.run(line, this.current.promptWidth, this.mode === EXEC);
    } catch (error) {
      ok = false;
      // Messages may quote what came from outside (a name, a server's error): escaped like output.
      if (error instanceof CommandError) this.buffer.push(terminalBlock(error.message));
      else if (running.signal.aborted) this.buffer.push(msg.interrupted);
      else {
        this.env.internalError(error, line);
        this.buffer.push(terminalBlock(msg.internalError(error instanceof Error ? error.message : String(error))));
      }
    }
    this.running = undefined;
    return this.result(ok);
  }

  private result(ok: boolean): ExecResult {
    const output = this.buffer.length ? this.buffer.join('\n') + '\n' : '';
    this.buffer = [];
    const unansweredSecrets = Math.max(0, this.secrets.declared - this.secrets.asked);
    return { output, ok, closed: this.isOver, ...(unansweredSecrets ? { unansweredSecrets } : {}) };
  }

  /** Matches and runs one line; `offset` is where column 0 of `line` sits on screen (for the caret). */
  private async run(line: string, offset: number, filters: boolean): Promise<boolean> {
    let command = line;
    let filter: OpenFilter | undefined;
    if (filters) {
      const split = splitFilter(line);
      command = split.command;
      if ('error' in split) {
        if (split.error === 'incomplete') throw new CommandError(msg.incomplete);
        if (split.error === 'regex') throw new CommandError(msg.badRegex(split.text));
        this.caret(offset + split.column);
        throw new CommandError(msg.invalidInput);
      }
      // Compiled off the event loop before the command runs, so a bad pattern changes nothing.
      if (split.filter) filter = await this.openFilter(split.filter.source, () => openFilter(split.filter!, this.running?.signal));
    }
    try {
      return await this.runCommand(command, offset, filter);
    } finally {
      filter?.close();
    }
  }

  private async openFilter(source: string, open: () => Promise<OpenFilter>): Promise<OpenFilter> {
    try {
      return await open();
    } catch (e) {
      throw e instanceof FilterError && e.kind === 'regex' ? new CommandError(msg.badRegex(source)) : this.filterFailure(e);
    }
  }

  private filterFailure(e: unknown): unknown {
    if (!(e instanceof FilterError) || this.running?.signal.aborted) return e;
    return new CommandError(e.kind === 'time' ? msg.filterTooSlow : msg.filterFailed(e.message));
  }

  private async runCommand(command: string, offset: number, filter: OpenFilter | undefined): Promise<boolean> {
    const { result, depth } = this.matchWithWalkup(command);
    switch (result.kind) {
      case 'empty':
        return true;
      case 'invalid':
        this.caret(offset + result.column);
        throw new CommandError(msg.invalidInput);
      case 'incomplete':
        throw new CommandError(msg.incomplete);
      case 'ambiguous':
        throw new CommandError(msg.ambiguous(result.text));
      case 'matched': {
        this.stack.length = depth;
        const state = result.state;
        const handler = this.env.handlers[state.node.terminal!.handler];
        if (!handler) throw new Error(`no handler ${state.node.terminal!.handler}`);
        this.secrets.declared = Math.max(this.secrets.declared, state.node.terminal!.secrets);
        const start = this.buffer.length;
        const ctx: CommandContext<S> = {
          args: state.args,
          no: state.keywords[0] === 'no',
          // Every line a handler prints is escaped for the terminal (util/terminal-text.ts): user names,
          // file contents and servers' messages come from outside. Only `raw` (the ANSI QR code this
          // appliance draws itself) reaches the terminal as it is.
          out: {
            line: (text = '') => void this.buffer.push(terminalBlock(text)),
            lines: (text) => void this.buffer.push(...(typeof text === 'string' ? text.replace(/\n$/, '').split('\n') : text).map(terminalBlock)),
            raw: (lines) => void this.buffer.push(...lines),
            flush: () => {
              if (filter || !this.host?.write || this.buffer.length === start) return;
              this.host.write(this.buffer.splice(start).join('\n') + '\n');
            },
          },
          signal: this.running?.signal ?? AbortSignal.abort(),
          session: this,
          app: this.env.app,
          error: (message: string): never => {
            throw new CommandError(message);
          },
        };
        await handler(ctx);
        if (filter) {
          let kept: string[];
          try {
            kept = await filter.apply(this.buffer.slice(start));
          } catch (e) {
            this.buffer.length = start;
            throw this.filterFailure(e);
          }
          this.buffer.splice(start, this.buffer.length - start, ...kept);
        }
        return true;
      }
    }
  }

  /** Tries the current mode, then (boot files, or modes marked walkup) each parent mode in turn (FRR walkup). */
  private matchWithWalkup(line: string): { result: MatchResult; depth: number } {
    const first = matchLine(this.top.mode.root, line, this.privilege);
    const walkup = this.source === 'file' || this.top.mode.walkup;
    if (first.kind === 'matched' || first.kind === 'empty' || !walkup) return { result: first, depth: this.stack.length };
    for (let depth = this.stack.length - 1; depth >= 1; depth--) {
      const mode = this.stack[depth - 1]!.mode;
      if (mode.id === EXEC) break;
      const r = matchLine(mode.root, line, this.privilege);
      if (r.kind === 'matched') return { result: r, depth };
    }
    return { result: first, depth: this.stack.length };
  }

  private caret(column: number): void {
    if (this.source !== 'file') this.buffer.push(' '.repeat(column) + '^');
  }

  help(line: string): string {
    const promptWidth = this.prompt().length;
    const words = splitWords(line);
    if (this.top.mode.allowDo && words[0]?.text.toLowerCase() === 'do' && (words.length > 1 || /\s$/.test(line))) {
      const rest = words.length > 1 ? line.slice(words[1]!.start) : '';
      return this.helpIn(this.env.grammar.modes.get(EXEC)!, rest, promptWidth + line.length - rest.length, true);
    }
    return this.helpIn(this.top.mode, line, promptWidth, this.mode === EXEC);
  }

  private helpIn(mode: Mode, line: string, offset: number, filters: boolean): string {
    if (filters) {
      const pipe = /\s\|(\s+|$)/.exec(line);
      if (pipe) return this.filterHelpFor(line.slice(pipe.index + pipe[0].length), offset + pipe.index + pipe[0].length);
    }
    const r = helpFor(mode.root, line, this.privilege);
    if (r.kind === 'invalid') return `${' '.repeat(offset + r.column)}^\n${msg.invalidInput}\n`;
    if (r.kind === 'ambiguous') return `${msg.ambiguous(r.text)}\n`;
    let entries: HelpEntry[] = [...r.entries];
    if (filters && entries.some((e) => e.token === CR)) {
      entries = [...entries.filter((e) => e.token !== CR), { token: '|', help: filterHelp.pipe }, { token: CR, help: '' }];
    }
    if (entries.length === 0) return `${' '.repeat(offset + line.length)}^\n${msg.invalidInput}\n`;
    return formatHelp(entries);
  }

  private filterHelpFor(rest: string, offset: number): string {
    const words = splitWords(rest);
    const atWordEnd = rest === '' || /\s$/.test(rest);
    if (words.length === 0 || (words.length === 1 && !atWordEnd)) {
      const prefix = words[0]?.text.toLowerCase() ?? '';
      const kinds = (['begin', 'exclude', 'include'] as const).filter((k) => k.startsWith(prefix));
      if (kinds.length === 0) return `${' '.repeat(offset)}^\n${msg.invalidInput}\n`;
      return formatHelp(kinds.map((k) => ({ token: k, help: filterHelp[k] })));
    }
    return formatHelp([{ token: 'LINE', help: filterHelp.regex }]);
  }

  complete(line: string): Completion {
    const words = splitWords(line);
    if (this.top.mode.allowDo && words[0]?.text.toLowerCase() === 'do' && words.length > 1) {
      const head = line.slice(0, words[1]!.start);
      const r = completeLine(this.env.grammar.modes.get(EXEC)!.root, line.slice(words[1]!.start), this.privilege);
      return { line: head + r.line, candidates: r.candidates };
    }
    if (/\s\|(\s|$)/.test(line)) return { line, candidates: [] };
    return completeLine(this.top.mode.root, line, this.privilege);
  }
}
