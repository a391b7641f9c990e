/**
 * Golden transcripts (aesthetics.md §9): a file reads like a terminal log.
 * - `#! key value` header lines set the test up: `#! boot NAME` (a fixtures/configs file as the
 *   startup config), `#! privilege 1` (start at `>`), `#! secret TEXT` (answers to no-echo questions, in order).
 * - A line starting with a prompt (`awplus#`, `core1(config)#`) carries input after the prompt:
 *   `?` at its end presses `?`; `<TAB>` presses TAB; `<CTRL-Z>` presses Ctrl-Z.
 * - Every other line is output, compared byte for byte.
 * A question a command asks (`reboot system? (y/n): y`) is answered with what the file shows after it.
 */
import { readFileSync } from 'node:fs';
import type { Session } from '../../src/session/session.ts';
import { newApp } from './app.ts';

export const PROMPT = /^([A-Za-z0-9_.-]+(?:\([a-z0-9-]+\))?[>#])(.*)$/;

/** A parsed transcript. */
export interface Transcript {
  readonly name: string;
  readonly headers: ReadonlyMap<string, string[]>;
  /** The screen text the transcript expects (header lines removed). */
  readonly screen: string;
  readonly inputs: readonly { prompt: string; input: string }[];
}

export function parseTranscript(name: string, text: string): Transcript {
  const headers = new Map<string, string[]>();
  const screenLines: string[] = [];
  const inputs: { prompt: string; input: string }[] = [];
  for (const line of text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n')) {
    const h = /^#!\s*(\S+)\s*(.*)$/.exec(line);
    if (h) {
      headers.set(h[1]!, [...(headers.get(h[1]!) ?? []), h[2]!]);
      continue;
    }
    screenLines.push(line);
    const p = PROMPT.exec(line);
    if (p) inputs.push({ prompt: p[1]!, input: p[2]! });
  }
  return { name, headers, screen: screenLines.join('\n') + '\n', inputs };
}

export function loadTranscript(path: string): Transcript {
  return parseTranscript(path.split('/').pop()!, readFileSync(path, 'utf8'));
}

/** What replaying through the session produced. */
export interface Replay {
  /** The screen with input lines as written in the file (markers kept): compare with `screen`. */
  readonly literal: string;
  /** The screen as a terminal shows it (TAB applied, `^Z` echoed): what the terminal adapter must draw. */
  readonly display: string;
  /** The keystrokes a person would type for this transcript (answers to questions included). */
  readonly keys: string;
}

/**
 * Replays a transcript through an IO-free session. Questions are answered from the file: a
 * non-secret answer is what the expected screen shows after the question at that point.
 */
export async function replayThroughSession<S>(t: Transcript, session: Session<S>): Promise<Replay> {
  let literal = '';
  let display = '';
  let keys = '';
  /** What the terminal's edit line holds after a `?` (the line stays). */
  let held = '';
  const type = (line: string, end: string) => {
    keys += line.startsWith(held) ? line.slice(held.length) : '\x15' + line; // Ctrl-U clears a held line
    keys += end;
    held = end === '?' ? line : '';
  };
  const secrets = [...(t.headers.get('secret') ?? [])];
  const emit = (lit: string, disp = lit) => {
    literal += lit;
    display += disp;
  };
  session.setHost({
    ask: async (pending, question, { secret }) => {
      emit(pending + question);
      if (secret) {
        emit('\n');
        const answer = secrets.shift() ?? null;
        keys += `${answer ?? ''}\r`;
        return answer;
      }
      // The answer is whatever the golden screen shows after the question, up to the end of the line.
      if (!t.screen.startsWith(literal)) return null;
      const rest = t.screen.slice(literal.length);
      const answer = rest.slice(0, rest.indexOf('\n'));
      emit(answer + '\n');
      keys += `${answer}\r`;
      return answer;
    },
  });
  for (const { input } of t.inputs) {
    const prompt = session.prompt();
    if (input === '<CTRL-Z>') {
      keys += held ? '\x15\x1a' : '\x1a';
      held = '';
      session.ctrlZ();
      emit(`${prompt}${input}\n`, `${prompt}^Z\n`);
      continue;
    }
    const parts = input.split('<TAB>');
    let line = parts[0]!;
    let typed = parts[0]!;
    for (const part of parts.slice(1)) {
      line = session.complete(line).line + part;
      typed += '\t' + part;
    }
    if (line.endsWith('?')) {
      const text = line.slice(0, -1);
      emit(`${prompt}${input}\n`, `${prompt}${line}\n`);
      emit(session.help(text));
      type(typed.slice(0, -1), '?');
      held = text;
      continue;
    }
    emit(`${prompt}${input}\n`, `${prompt}${line}\n`);
    type(typed, '\r');
    const r = await session.execute(line);
    emit(r.output);
    if (r.closed) break;
  }
  return { literal, display, keys };
}

const CONFIGS = new URL('../../fixtures/configs/', import.meta.url).pathname;

/** Boots the appliance a transcript's headers ask for and opens its session. */
export async function setUp(t: Transcript) {
  const boot = t.headers.get('boot')?.[0];
  const files: Record<string, string> = boot ? { 'default.cfg': readFileSync(CONFIGS + boot, 'utf8') } : {};
  const env = await newApp({ files });
  const privilege = Number(t.headers.get('privilege')?.[0] ?? 15);
  const session = env.app.openSession({ source: 'test', user: 'manager', userPrivilege: 15, enabled: privilege > 1, location: 'test' });
  return { env, session };
}

