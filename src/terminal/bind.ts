/**
 * Binds a session to a line editor (aedes `handle(stream)`): the same loop serves the console, the
 * control socket and SSH channels.
 */
import type { InteractiveSession } from '../session/types.ts';
import type { LineEditor } from './line-editor.ts';

/** Runs the read-execute-print loop until the session closes or the input ends. */
export async function runInteractive(editor: LineEditor, session: InteractiveSession): Promise<'closed' | 'eof'> {
  session.setHost({
    ask: async (pending, question, { secret }) => {
      editor.write(pending);
      return editor.question(question, { secret });
    },
    write: (text) => editor.write(text),
  });
  // A session ended from outside (reboot) must not leave the user at a dead prompt. Once this loop
  // is over the editor may be reading for someone else (the console's next login): leave it alone.
  let running = true;
  void session.closed.then(() => {
    if (running) editor.abort();
  });
  try {
    return await loop(editor, session);
  } finally {
    running = false;
  }
}

async function loop(editor: LineEditor, session: InteractiveSession): Promise<'closed' | 'eof'> {
  for (;;) {
    const input = await editor.readCommand(session.prompt(), {
      help: (line) => session.help(line),
      complete: (line) => session.complete(line),
    });
    if (input.kind === 'eof') return (await isSettled(session.closed)) ? 'closed' : 'eof';
    if (input.kind === 'ctrl-z') {
      session.ctrlZ();
      continue;
    }
    // Ctrl-C while the command runs abandons what it waits for (a download, a server).
    const stopInterrupts = editor.onInterrupt(() => session.interrupt());
    const result = await session.execute(input.line).finally(stopInterrupts);
    await editor.page(result.output, session.terminalLength);
    if (result.closed) return 'closed';
  }
}

/** Whether a promise has already settled (checked after the current microtasks). */
async function isSettled(p: Promise<void>): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([p, Promise.resolve(marker)])) !== marker;
}
