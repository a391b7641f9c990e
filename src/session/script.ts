/**
 * Runs a configuration file through a session (FRR config_from_file, libcli cli_file): every line in
 * config mode, lines of a parent mode walk up to it, `!` lines separate, a failing line is recorded
 * with its number and the rest still applies (SPEC §3 boot config loading).
 */
import { msg } from '../cli/messages.ts';
import { maskSecrets } from '../util/mask-secrets.ts';
import type { Session } from './session.ts';

/** A line of the file that was not applied. */
export interface ScriptError {
  /** 1-based line number in the file. */
  readonly line: number;
  /** The line, its secrets masked (util/mask-secrets.ts). */
  readonly text: string;
  /** The `% ` message the line produced. */
  readonly message: string;
}

/** Applies `text` line by line to a `file` session; returns the lines that failed. */
export async function runConfigScript<S>(session: Session<S>, text: string): Promise<ScriptError[]> {
  const errors: ScriptError[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('!')) continue;
    if (session.mode === 'exec') session.enter('config');
    const result = await session.execute(line);
    if (!result.ok) {
      const message = result.output.split('\n').filter((l) => l.startsWith('% ')).pop() ?? '% Error';
      // The report goes to stderr, the console and the audit log: never with the line's keys or passwords.
      errors.push({ line: i + 1, text: maskSecrets(trimmed), message: maskSecrets(message) });
    }
  }
  return errors;
}

/** What applying a startup config found. */
export interface BootReport {
  readonly file: string;
  readonly errors: readonly ScriptError[];
}

/** Boot errors, one line each with the file and line number. */
export function formatBootReport(report: BootReport): string {
  return report.errors.map((e) => msg.bootError(`flash:/${report.file}`, e.line, e.text, e.message) + '\n').join('');
}
