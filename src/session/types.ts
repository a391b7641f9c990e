/**
 * The contract between an IO-free CLI session and whatever drives it (a terminal adapter, the script
 * runner, the boot loader, a test). The session never touches a stream: it returns text, and asks its
 * host when a command needs another line of input (a password, a y/n confirmation).
 */

/** What one executed line produced. */
export interface ExecResult {
  /** Output text, lines separated by `\n`, ending with `\n` when not empty. Never contains the prompt. */
  readonly output: string;
  /** False when the line was rejected (a `% ` error from the parser or the handler). */
  readonly ok: boolean;
  /** True when the session ended (`exit`/`logout` at EXEC, reboot): the driver closes its side. */
  readonly closed: boolean;
  /**
   * Passwords the command always reads (grammar `@secrets N`) but did not ask for, because it failed
   * first. A script driver skips that many input lines unseen: they were written as the answers, and
   * must never run as commands, be echoed or enter the history.
   */
  readonly unansweredSecrets?: number;
}

/** Result of TAB on a partial line. */
export interface Completion {
  /** The line after completion (unchanged when nothing could be completed). */
  readonly line: string;
  /** When the word could not be completed uniquely, the candidates to list (may be empty). */
  readonly candidates: readonly string[];
}

/** Services the driver lends the session for commands that need more input. */
export interface SessionHost {
  /**
   * Shows `pending` (output the command printed so far, may be empty) and then `question` (no newline),
   * reads one line and returns it without its line ending; `null` when there is no more input.
   * With `secret` the answer is not echoed.
   */
  ask(pending: string, question: string, opts: { secret: boolean }): Promise<string | null>;
  /** Shows output of a command that is still running (progress lines); without it, output waits for the end. */
  write?(text: string): void;
}

/** What a terminal adapter needs from a session. */
export interface InteractiveSession {
  /** The prompt for the current mode, e.g. `awplus(config)#` (no trailing space, SPEC §3). */
  prompt(): string;
  /** Runs one input line (without its line ending). */
  execute(line: string): Promise<ExecResult>;
  /** Text to print after the user pressed `?` at the end of `line` (ends with `\n`). */
  help(line: string): string;
  /** TAB at the end of `line`. */
  complete(line: string): Completion;
  /** Ctrl-Z: leave any configuration mode for privileged EXEC (same as `end`). */
  ctrlZ(): void;
  /** Ctrl-C while a command runs: whatever it waits for is abandoned, and nothing it was about to change is. */
  interrupt(): void;
  /** `terminal length` lines per page; 0 disables paging. */
  readonly terminalLength: number;
  /** Lets the driver tell the session its window size (SSH pty, console TTY). */
  setWindow(columns: number, rows: number): void;
  /** The driver that answers `ask` requests. */
  setHost(host: SessionHost): void;
  /** Settles when the session ends from inside (`exit`) or outside (reboot, shutdown). */
  readonly closed: Promise<void>;
}
