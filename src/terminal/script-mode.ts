/**
 * Script mode (SPEC §2): input is not a terminal, so every line is executed and echoed after its
 * prompt exactly as a terminal would show it, followed by its output. Questions a command asks
 * (passwords, confirmations) take the next input line. No paging.
 */
import { createInterface } from 'node:readline';
import type { InteractiveSession } from '../session/types.ts';

/** Runs `input` through `session`; true when no line was rejected. */
export async function runScriptMode(session: InteractiveSession, input: NodeJS.ReadableStream, write: (text: string) => void): Promise<boolean> {
  const rl = createInterface({ input, terminal: false, crlfDelay: Infinity });
  const lines = rl[Symbol.asyncIterator]();
  const next = async (): Promise<string | null> => {
    const r = await lines.next();
    return r.done ? null : r.value;
  };
  session.setHost({
    ask: async (pending, question, { secret }) => {
      write(pending + question);
      const answer = await next();
      // A secret answer is not echoed, as on a terminal.
      write(`${answer === null || secret ? '' : answer}\n`);
      return answer;
    },
  });
  let ok = true;
  try {
    for (let line = await next(); line !== null; line = await next()) {
      write(`${session.prompt()}${line}\n`);
      const result = await session.execute(line);
      write(result.output);
      if (!result.ok) ok = false;
      if (result.closed) break;
    }
  } finally {
    rl.close();
  }
  return ok;
}
