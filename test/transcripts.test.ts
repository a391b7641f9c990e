/**
 * Golden transcripts (fixtures/transcripts/*.txt) replayed through an IO-free session: prompts,
 * echo and every output line byte for byte. The same files run through the terminal adapter in
 * test/terminal/transcripts.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { newApp } from './helpers/app.ts';
import { loadTranscript, replayThroughSession, type Transcript } from './helpers/transcript.ts';

const DIR = new URL('../fixtures/transcripts/', import.meta.url).pathname;
const CONFIGS = new URL('../fixtures/configs/', import.meta.url).pathname;

/** Boots the appliance a transcript's headers ask for and opens its session. */
export async function setUp(t: Transcript) {
  const boot = t.headers.get('boot')?.[0];
  const files: Record<string, string> = boot ? { 'default.cfg': readFileSync(CONFIGS + boot, 'utf8') } : {};
  const env = await newApp({ files });
  const privilege = Number(t.headers.get('privilege')?.[0] ?? 15);
  const session = env.app.openSession({ source: 'test', user: 'manager', userPrivilege: 15, enabled: privilege > 1, location: 'test' });
  return { env, session };
}

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
