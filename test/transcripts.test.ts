/**
 * Golden transcripts (fixtures/transcripts/*.txt) replayed through an IO-free session: prompts,
 * echo and every output line byte for byte. The same files run through the terminal adapter in
 * test/terminal/transcripts.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { loadTranscript, replayThroughSession, setUp } from './helpers/transcript.ts';

const DIR = new URL('../fixtures/transcripts/', import.meta.url).pathname;
for (const file of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
  test(`transcript ${file} (session)`, async () => {
    const t = loadTranscript(DIR + file);
    const { env, session } = await setUp(t);
    try {
      const replay = await replayThroughSession(t, session);
      assert.equal(replay.literal, t.screen);
    } finally {
      await env.close();
    }
  });
}
