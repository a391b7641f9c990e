/**
 * Script mode (SPEC §2): input is not a terminal, so every line is executed and echoed after its
 * prompt exactly as a terminal would show it, followed by its output. Questions a command asks
 * (passwords, confirmations) take the next input line. No paging.
 */
import { createInterface } from 'node:readline';
import type { InteractiveSession } from '../session/types.ts';

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
      write(`${answer === null || secret ? '' : answer}\n`);
      return answer;
    },
    write,
  });
  let ok = true;
  for (let line = await lines.next(); line !== null; line = await lines.next()) {
    write(`${session.prompt()}${line}\n`);
    const result = await session.execute(line);
    write(result.output);
    if (!result.ok) ok = false;
    if (result.closed) break;
  }
  return ok;
}
