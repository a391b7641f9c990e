/**
 * Script mode (SPEC §2): input is not a terminal, so every line is executed and echoed after its
 * prompt exactly as a terminal would show it, followed by its output; a `?` in it shows the help a
 * terminal would show at that point. Questions a command asks
 * (passwords, confirmations) take the next input line. No paging.
 */
import { createInterface } from 'node:readline';
import type { InteractiveSession } from '../session/types.ts';
import { terminalBlock } from '../util/terminal-text.ts';

/** Input lines read one at a time; outlives a session (a reboot opens the next one on the same input). */
export interface LineSource {
  next(): Promise<string | null>;
  close(): void;
}

/** Lines of a non-terminal input stream. */
export function lineSource(input: NodeJS.ReadableStream): LineSource {
  const rl = createInterface({ input, terminal: false, crlfDelay: Infinity });
  const lines = rl[Symbol.asyncIterator]();
  return {
    next: async () => {
      const r = await lines.next();
      return r.done ? null : r.value;
    },
    close: () => rl.close(),
  };
}

/** Runs lines through `session` until the input ends or the session closes; true when none was rejected. */
export async function runScriptMode(session: InteractiveSession, lines: LineSource, write: (text: string) => void): Promise<boolean> {
  session.setHost({
    ask: async (pending, question, { secret }) => {
      write(pending + question);
      const answer = await lines.next();
      // A secret answer is not echoed, as on a terminal.
      write(`${answer === null || secret ? '' : terminalBlock(answer)}\n`);
      return answer;
    },
    write,
  });
  let ok = true;
  for (let typed = await lines.next(); typed !== null; typed = await lines.next()) {
    // `?` is a key, not text, as on the terminal (SPEC §3): it lists what may follow the line so far
    // and stays out of the line, which then runs without it. Never a value: `key ?` must not set a key.
    let line = typed;
    for (let at = line.indexOf('?'); at >= 0; at = line.indexOf('?')) {
      const before = line.slice(0, at);
      write(`${session.prompt()}${terminalBlock(before)}?\n${session.help(before)}`);
      line = before + line.slice(at + 1);
    }
    // The echo shows a control character as an escape, never raw: it would act on the reader's
    // terminal, and a NUL would end `awplus connect`'s output early (control-socket.ts framing).
    write(`${session.prompt()}${terminalBlock(line)}\n`);
    const result = await session.execute(line);
    write(result.output);
    // The password lines of a command that failed before asking for them (`2fa import user-data` whose
    // copy failed): read and dropped, never run as commands, echoed or kept in the history.
    for (let i = 0; i < (result.unansweredSecrets ?? 0); i++) if ((await lines.next()) === null) break;
    if (!result.ok) ok = false;
    if (result.closed) break;
  }
  return ok;
}
