/**
 * The golden transcripts again, typed key by key into the terminal adapter (LineEditor +
 * runInteractive over a PassThrough pair): `?` answered at once with the line kept, TAB completing,
 * Ctrl-Z, questions. The screen a person would see must equal the transcript's display form.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runInteractive } from '../../src/terminal/bind.ts';
import { LineEditor } from '../../src/terminal/line-editor.ts';
import { Screen } from '../helpers/screen.ts';
import { loadTranscript, PROMPT, replayThroughSession, setUp } from '../helpers/transcript.ts';

const DIR = new URL('../../fixtures/transcripts/', import.meta.url).pathname;

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
  test(`transcript ${file} (terminal)`, async () => {
    const t = loadTranscript(DIR + file);
    // The session replay gives the expected screen and the keystrokes that produce it.
    const reference = await setUp(t);
    const replay = await replayThroughSession(t, reference.session);
    await reference.env.close();

    const { env, session } = await setUp(t);
    const input = new PassThrough();
    const output = new PassThrough();
    const screen = new Screen();
    output.on('data', (d: Buffer) => screen.feed(d.toString('utf8')));
    const editor = new LineEditor({ input, output, columns: 200, rows: 50 });
    const done = runInteractive(editor, session);
    input.write(replay.keys);
    input.end();
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`terminal replay hung; screen:\n${screen.text()}`)), 10000).unref());
    await Promise.race([done, timeout]);
    editor.close();
    await env.close();
    await new Promise((r) => setImmediate(r));
    // After the last command the terminal shows one more prompt (with the line a final `?` kept),
    // unless the session ended; the screen has no trailing spaces.
    const rows = screen.text().split('\n');
    if (rows[rows.length - 1] === '' || PROMPT.test(rows[rows.length - 1]!)) rows.pop();
    const trim = (text: string) => text.replace(/ +$/gm, '');
    assert.equal(rows.join('\n') + '\n', trim(replay.display));
  });
}
