/**
 * What a command handler gets (FRR DEFPY arguments + vty): its converted arguments, the `no` flag, an
 * output sink, the session it runs in and the appliance `S` (what handlers may use of it).
 */

/** A handler's refusal: printed as one `% ` line, the line counts as rejected. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Where the session came from (shown by `show users`, decides echo and paging). */
export type SessionSource = 'console' | 'script' | 'ssh' | 'connect' | 'file' | 'test';

/** The session as a handler may drive it. */
export interface SessionControl {
  readonly id: number;
  readonly source: SessionSource;
  /** Login name (`manager`), or `system` for the boot loader. */
  readonly user: string;
  /** The highest privilege the user may enable to. */
  readonly userPrivilege: number;
  /** Current privilege: 1 at `>`, 15 at `#`. */
  privilege: number;
  readonly mode: string;
  /** Context given by the command that entered the current mode (e.g. an interface name). */
  readonly modeContext: unknown;
  /** Enters a sub-mode (FRR VTY_PUSH_CONTEXT). */
  enter(mode: string, context?: unknown): void;
  /** One mode up; at EXEC this ends the session. */
  exit(): void;
  /** Back to privileged EXEC. */
  end(): void;
  /** Ends the session. */
  close(): void;
  /** Asks the driver for one more line (a password, a confirmation); null when there is none. */
  ask(question: string, opts?: { secret?: boolean }): Promise<string | null>;
  readonly history: readonly string[];
  terminalLength: number;
  /** Runs a line in EXEC mode on behalf of `do` (config modes). */
  runExec(line: string): Promise<void>;
}

/** Output sink of one command. */
export interface Output {
  /** One line (no line ending). */
  line(text?: string): void;
  /** Several lines at once (a block already split, or text with `\n`). */
  lines(text: string | readonly string[]): void;
  /**
   * Lines with terminal control sequences this appliance made itself (the ANSI QR code), shown as they
   * are; everything printed with `line`/`lines` has its control characters escaped.
   */
  raw(lines: readonly string[]): void;
  /** Shows what was printed so far at once (progress before a long wait), unless an output filter holds it. */
  flush(): void;
}

/** The context of one handler call. */
export interface CommandContext<S> {
  readonly args: Readonly<Record<string, unknown>>;
  /** The command was entered in its `no` form. */
  readonly no: boolean;
  readonly out: Output;
  readonly session: SessionControl;
  readonly app: S;
  /** Throws a CommandError: the message is printed and the line counts as rejected. */
  error(message: string): never;
  /** Aborted when the user presses Ctrl-C while the command waits: pass it to whatever waits. */
  readonly signal: AbortSignal;
}

/** A command handler, bound to a grammar line by its id. */
export type Handler<S> = (ctx: CommandContext<S>) => void | Promise<void>;

/** Handlers by id (`system.hostname`). */
export type HandlerTable<S> = Readonly<Record<string, Handler<S>>>;

/** Typed access to converted arguments; the grammar guarantees presence and type. */
export const arg = {
  str(ctx: { args: Readonly<Record<string, unknown>> }, name: string): string {
    const v = ctx.args[name];
    if (typeof v !== 'string') throw new Error(`argument ${name} is not a string`);
    return v;
  },
  num(ctx: { args: Readonly<Record<string, unknown>> }, name: string): number {
    const v = ctx.args[name];
    if (typeof v !== 'number') throw new Error(`argument ${name} is not a number`);
    return v;
  },
  has(ctx: { args: Readonly<Record<string, unknown>> }, name: string): boolean {
    return ctx.args[name] !== undefined;
  },
  opt<T>(ctx: { args: Readonly<Record<string, unknown>> }, name: string): T | undefined {
    return ctx.args[name] as T | undefined;
  },
};
