/**
 * The terminal adapter (LineEditor + runInteractive) over a PassThrough pair.
 * - First against a small fake session, so the editor is tested on its own: immediate `?` with the
 *   line kept, TAB completion and listings, editing keys, history, Ctrl-Z, Ctrl-C, questions (secret
 *   ones not echoed), `--More--` paging, CRLF in and out, window size, EOF.
 * - Then with a real appliance session behind it (history, TAB, paging, enable password, a session
 *   that ends underneath a pending read). The appliance is imported lazily so that a broken appliance
 *   fails those tests, not the editor's.
 * Every wait is bounded.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Completion, ExecResult, InteractiveSession, SessionHost } from '../../src/session/types.ts';
import { runInteractive } from '../../src/terminal/bind.ts';
import { LineEditor } from '../../src/terminal/line-editor.ts';
import { Screen } from '../helpers/screen.ts';

const WAIT_MS = 3000;

// ---- a fake session --------------------------------------------------------------------------------

const WORDS = ['show', 'shutdown', 'configure', 'enable', 'exit', 'long'];

class FakeSession implements InteractiveSession {
  terminalLength = 0;
  readonly executed: string[] = [];
  readonly helped: string[] = [];
  readonly answers: (string | null)[] = [];
  ctrlZs = 0;
  interrupts = 0;
  private stopWaiting: (() => void) | undefined;
  window = { columns: 0, rows: 0 };
  private config = false;
  private host: SessionHost | undefined;
  private settle!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.settle = resolve));

  prompt(): string {
    return this.config ? 'R(config)#' : 'R#';
  }

  async execute(line: string): Promise<ExecResult> {
    this.executed.push(line);
    const out = (output: string): ExecResult => ({ output, ok: true, closed: false });
    const word = line.trim();
    if (word === 'configure') {
      this.config = true;
      return out('');
    }
    if (word === 'enable') {
      this.answers.push(await this.host!.ask('Checking...\n', 'Password:', { secret: true }));
      return out('');
    }
    if (word === 'confirm') {
      this.answers.push(await this.host!.ask('', 'Continue? (y/n):', { secret: false }));
      return out('');
    }
    if (word === 'long') return out(Array.from({ length: 12 }, (_, i) => `L${i + 1}`).join('\n') + '\n');
    if (word === 'wait') {
      // Shows progress at once, then waits until Ctrl-C.
      this.host!.write?.('Waiting...\n');
      await new Promise<void>((resolve) => (this.stopWaiting = resolve));
      return { output: '% Interrupted\n', ok: false, closed: false };
    }
    if (word === 'exit') {
      this.settle();
      return { output: '', ok: true, closed: true };
    }
    return out(word ? `ran ${word}\n` : '');
  }

  help(line: string): string {
    this.helped.push(line);
    return `  help for "${line}"\n  <cr>\n`;
  }

  complete(line: string): Completion {
    const hits = WORDS.filter((w) => w.startsWith(line));
    if (line === 'x') return { line, candidates: Array.from({ length: 9 }, (_, i) => `cand${i}xxxx`) };
    if (hits.length === 1) return { line: hits[0] + ' ', candidates: [] };
    if (hits.length > 1 && line === 'sh') return { line, candidates: hits };
    if (line === 'e') return { line: 'e', candidates: ['enable', 'exit'] };
    return { line, candidates: [] };
  }

  ctrlZ(): void {
    this.ctrlZs++;
    this.config = false;
  }

  interrupt(): void {
    this.interrupts++;
    this.stopWaiting?.();
  }

  setWindow(columns: number, rows: number): void {
    this.window = { columns, rows };
  }

  setHost(host: SessionHost): void {
    this.host = host;
  }

  close(): void {
    this.settle();
  }
}

/** A terminal: keys go in with `type`, `waitFor` waits (bounded) for the screen to show something. */
function terminal(opts: { columns?: number; rows?: number; terminalLength?: number } = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const screen = new Screen();
  let raw = '';
  const watchers = new Set<() => void>();
  output.on('data', (d: Buffer) => {
    raw += d.toString('utf8');
    screen.feed(d.toString('utf8'));
    for (const w of watchers) w();
  });
  const session = new FakeSession();
  session.terminalLength = opts.terminalLength ?? 0;
  const editor = new LineEditor({ input, output, columns: opts.columns ?? 80, rows: opts.rows ?? 24 });
  const done = runInteractive(editor, session);
  const bounded = <T>(p: Promise<T>, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; screen:\n${screen.text()}`)), WAIT_MS);
      p.then(
        (v) => (clearTimeout(timer), resolve(v)),
        (e: unknown) => (clearTimeout(timer), reject(e)),
      );
    });
  return {
    input,
    output,
    session,
    editor,
    screen: () => screen.text(),
    raw: () => raw,
    type: (keys: string) => void input.write(keys),
    /** Resolves once the screen (or, with `inRaw`, the raw output) matches. */
    waitFor(pattern: string | RegExp, inRaw = false): Promise<void> {
      const test = () => {
        const text = inRaw ? raw : screen.text();
        return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
      };
      let stop = () => {};
      return bounded(
        new Promise<void>((resolve) => {
          const check = () => test() && resolve();
          watchers.add(check);
          stop = () => watchers.delete(check);
          check();
        }),
        String(pattern),
      ).finally(() => stop());
    },
    /** Ends the input and waits (bounded) for the loop to end. */
    async end(): Promise<'closed' | 'eof'> {
      input.end();
      const r = await bounded(done, 'runInteractive to end');
      editor.close();
      return r;
    },
  };
}

/** Types everything, ends the input, returns what the loop and the screen ended with. */
async function session(keys: string, opts: { columns?: number; rows?: number; terminalLength?: number } = {}) {
  const t = terminal(opts);
  t.type(keys);
  const result = await t.end();
  return { ...t, result, text: t.screen() };
}

// ---- the editor against the fake session ------------------------------------------------------------

test('? shows help at once, without Enter, and keeps the line; ? is never inserted', async () => {
  const t = terminal();
  t.type('sh?');
  await t.waitFor('<cr>');
  await t.waitFor(/<cr>\nR#sh$/);
  assert.deepEqual(t.session.helped, ['sh']);
  assert.deepEqual(t.session.executed, [], 'nothing was executed');
  t.type('ow?\r');
  assert.equal(await t.end(), 'eof');
  assert.deepEqual(t.session.helped, ['sh', 'show']);
  assert.deepEqual(t.session.executed, ['show']);
  assert.equal(
    t.screen(),
    ['R#sh?', '  help for "sh"', '  <cr>', 'R#show?', '  help for "show"', '  <cr>', 'R#show', 'ran show', 'R#'].join('\n'),
  );
});

test('? with the cursor inside the line: help for the whole line, ? echoed at its end', async () => {
  const { session: s, text } = await session('show x\x1b[D\x1b[D?\r');
  assert.deepEqual(s.helped, ['show x']);
  assert.deepEqual(s.executed, ['show x']);
  assert.match(text, /^R#show x\?\n {2}help for "show x"\n {2}<cr>\nR#show x\nran show x\nR#$/);
});

test('TAB completes a unique prefix in place', async () => {
  const { session: s, text } = await session('conf\t\r');
  assert.deepEqual(s.executed, ['configure ']);
  assert.equal(text, 'R#configure\nR(config)#');
});

test('TAB lists the candidates on a new line and keeps the line', async () => {
  const { session: s, text } = await session('sh\tow\r');
  assert.deepEqual(s.executed, ['show']);
  assert.equal(text, ['R#sh', 'show      shutdown', 'R#show', 'ran show', 'R#'].join('\n'));
});

test('TAB listings fill the window width in columns', async () => {
  const { text } = await session('x\t\x03', { columns: 40 });
  const rows = text.split('\n');
  // 9 candidates of 9 characters, 11 columns each: 3 per row of 40.
  assert.deepEqual(rows.slice(1, 4), ['cand0xxxx  cand1xxxx  cand2xxxx', 'cand3xxxx  cand4xxxx  cand5xxxx', 'cand6xxxx  cand7xxxx  cand8xxxx']);
  assert.ok(rows.every((r) => r.length <= 40));
  assert.equal(rows[4], 'R#x^C');
});

test('editing keys: backspace, left/right, Ctrl-A/E/U/K/W', async () => {
  const { session: s } = await session(
    [
      'abx\x7fc\r', // backspace
      'world\x01hello \x05!\r', // Ctrl-A, Ctrl-E
      'junk\x15kept\r', // Ctrl-U
      'abcdef\x01\x1b[C\x1b[C\x0b\r', // right, right, Ctrl-K
      'show foo\x17bar\r', // Ctrl-W
      'ac\x1b[Db\r', // left
    ].join(''),
  );
  assert.deepEqual(s.executed, ['abc', 'hello world!', 'kept', 'ab', 'show bar', 'abc']);
});

test('up/down recall history; empty lines and consecutive duplicates are not recorded', async () => {
  const t = terminal();
  t.type('one\rtwo\rtwo\r\r');
  await t.waitFor('ran two\nR#\nR#');
  t.type('\x1b[A');
  await t.waitFor(/R#two$/);
  t.type('\x1b[A');
  await t.waitFor(/R#one$/);
  t.type('\x1b[B\r');
  await t.waitFor(/R#two\nran two\nR#$/);
  t.type('\x1b[A\x1b[A\r');
  await t.end();
  // The empty line still reached execute; history holds `one`, `two` (the repeated `two` once).
  assert.deepEqual(t.session.executed, ['one', 'two', 'two', '', 'two', 'one']);
});

test('Ctrl-C discards the line and shows a new prompt; Ctrl-Z returns to privileged EXEC', async () => {
  const { session: s, text } = await session('bogus\x03configure\rabc\x1a\x1ashow\r');
  assert.deepEqual(s.executed, ['configure', 'show']);
  assert.equal(s.ctrlZs, 2);
  assert.equal(text, ['R#bogus^C', 'R#configure', 'R(config)#abc^Z', 'R#^Z', 'R#show', 'ran show', 'R#'].join('\n'));
});

test('a command shows its progress while it runs, and Ctrl-C reaches it at once instead of waiting as type-ahead', async () => {
  const t = terminal();
  t.type('wait\r');
  await t.waitFor('Waiting...');
  assert.equal(t.session.interrupts, 0);
  t.type('\x03');
  await t.waitFor(/\^C\n% Interrupted\nR#$/);
  assert.equal(t.session.interrupts, 1);
  // Ctrl-C at the prompt is line editing again, not an interrupt.
  t.type('x\x03');
  await t.waitFor(/R#x\^C\nR#$/);
  assert.equal(t.session.interrupts, 1);
  await t.end();
});

test('Ctrl-C while browsing history starts the next line fresh', async () => {
  const { session: s } = await session('one\rtwo\r\x1b[A\x1b[A\x03\x1b[A\r');
  assert.deepEqual(s.executed, ['one', 'two', 'two']);
});

test('a secret question echoes nothing, not even *; its answer is not in history', async () => {
  const t = terminal();
  t.type('enable\r');
  await t.waitFor(/Checking\.\.\.\nPassword:$/);
  t.type('s3cr\x7fret\r');
  await t.waitFor(/Password:\nR#$/);
  t.type('\x1b[A\r');
  await t.waitFor(/R#enable\nChecking\.\.\.\nPassword:$/);
  await t.end();
  assert.deepEqual(t.session.answers, ['s3cret', null]);
  assert.deepEqual(t.session.executed, ['enable', 'enable'], 'history recalled `enable`, not the password');
  assert.ok(!t.raw().includes('s3c'), 'nothing of the password was written');
  assert.ok(!t.raw().includes('*'));
});

test('a plain question echoes the answer; EOF answers null', async () => {
  const t = terminal();
  t.type('confirm\r');
  await t.waitFor('Continue? (y/n):');
  t.type('yes\x7f\x7f\r');
  await t.waitFor(/\(y\/n\):y\nR#$/);
  t.type('confirm\r');
  await t.waitFor(/R#confirm\nContinue\? \(y\/n\):$/);
  assert.equal(await t.end(), 'eof');
  assert.deepEqual(t.session.answers, ['y', null]);
});

test('LineEditor.question on its own: secret and plain, null at EOF', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let raw = '';
  output.on('data', (d: Buffer) => (raw += d.toString('utf8')));
  const editor = new LineEditor({ input, output });
  input.write('manager\rfriend\r');
  const timeout = <T>(p: Promise<T>) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hung')), WAIT_MS).unref())]);
  assert.equal(await timeout(editor.question('awplus login: ', { secret: false })), 'manager');
  assert.equal(await timeout(editor.question('Password: ', { secret: true })), 'friend');
  const pending = editor.question('again: ', { secret: false });
  input.end();
  assert.equal(await timeout(pending), null);
  editor.close();
  assert.equal(await editor.question('closed: ', { secret: false }), null);
  assert.equal(raw, 'awplus login: manager\r\nPassword: \r\nagain: ');
});

test('--More-- pages: space for a page, enter for one line, q stops; each --More-- is erased', async () => {
  const t = terminal({ terminalLength: 5 });
  t.type('long\r');
  await t.waitFor(/L4\n--More--$/);
  assert.ok(!t.screen().includes('L5'));
  t.type(' ');
  await t.waitFor(/L8\n--More--$/);
  t.type('\r');
  await t.waitFor(/L8\nL9\n--More--$/);
  t.type('q');
  await t.waitFor(/L9\nR#$/);
  t.type('long\r');
  await t.waitFor(/L4\n--More--$/);
  t.type('\x03');
  await t.waitFor(/L4\nR#$/);
  await t.end();
  assert.equal(t.raw().split('--More--').length - 1, 4);
  assert.ok(!t.screen().includes('--More--'));
  assert.ok(t.raw().includes('--More--\r        \r'), 'erased with CR, spaces, CR');
  assert.ok(!t.screen().includes('L10'));
  assert.deepEqual(t.session.executed, ['long', 'long'], 'keys answering --More-- are not typed into the next line');
});

test('--More-- to the end of the output, typed ahead', async () => {
  const { text } = await session('long\r   ', { terminalLength: 5 });
  assert.equal(text, ['R#long', ...Array.from({ length: 12 }, (_, i) => `L${i + 1}`), 'R#'].join('\n'));
});

test('terminal length 0: no paging', async () => {
  const { text, raw } = await session('long\r', { terminalLength: 0 });
  assert.equal(text, ['R#long', ...Array.from({ length: 12 }, (_, i) => `L${i + 1}`), 'R#'].join('\n'));
  assert.ok(!raw().includes('--More--'));
});

test('page() on its own: short output is not paged, length 1 still makes progress', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let raw = '';
  output.on('data', (d: Buffer) => (raw += d.toString('utf8')));
  const editor = new LineEditor({ input, output });
  await editor.page('a\nb\n', 3);
  assert.equal(raw, 'a\r\nb\r\n');
  raw = '';
  input.write('  ');
  await Promise.race([editor.page('1\n2\n3\n', 1), new Promise((_, reject) => setTimeout(() => reject(new Error('hung')), WAIT_MS).unref())]);
  await new Promise((r) => setImmediate(r));
  assert.equal(raw.replace(/--More--\r {8}\r/g, '|'), '1\r\n|2\r\n|3\r\n');
  editor.close();
});

test('output uses CRLF; input CRLF counts as one line end', async () => {
  const { session: s, raw } = await session('a\r\nb\r\n?');
  assert.deepEqual(s.executed, ['a', 'b']);
  assert.ok(raw().includes('\r\n'));
  assert.doesNotMatch(raw().replace(/\r\n/g, ''), /\n/, 'every LF is preceded by CR');
});

test('setSize: readline re-wraps while editing, and stays quiet while a command runs', async () => {
  const t = terminal({ columns: 80 });
  t.type('abc');
  await t.waitFor(/R#abc$/);
  const before = t.raw().length;
  t.editor.setSize(100, 30);
  await t.waitFor(/R#abc$/);
  await new Promise((r) => setImmediate(r));
  assert.ok(t.raw().length > before, 'the line was redrawn');
  t.type('\renable\r');
  await t.waitFor(/Password:$/);
  const during = t.raw().length;
  t.editor.setSize(60, 20);
  await new Promise((r) => setImmediate(r));
  assert.equal(t.raw().length, during, 'no prompt drawn over a question');
  t.type('x\r');
  await t.end();
});

test('EOF ends runInteractive with eof, also in the middle of a line; exit ends it with closed', async () => {
  const partial = await session('show\rsho');
  assert.equal(partial.result, 'eof');
  assert.deepEqual(partial.session.executed, ['show']);
  const empty = await session('');
  assert.equal(empty.result, 'eof');
  assert.equal(empty.text, 'R#');
  const t = terminal();
  t.type('exit\r');
  await t.waitFor(/R#exit\n$/);
  assert.equal(await t.end(), 'closed');
  assert.equal(t.screen(), 'R#exit\n', 'no prompt after the session closed');
});

test('typed-ahead lines are kept for the next prompt; Ctrl-D on an empty line does nothing', async () => {
  const { session: s, text } = await session('one\rtwo\r\x04three\x01\x04\r');
  assert.deepEqual(s.executed, ['one', 'two', 'hree']);
  assert.match(text, /R#two\nran two\nR#hree\n/);
});

// ---- with a real appliance session ------------------------------------------------------------------

/** Types `keys` into a terminal bound to a fresh session; returns the screen once input ends. */
async function typeInto(keys: string, opts: { userPrivilege?: number; files?: Record<string, string>; rows?: number } = {}) {
  const { newApp } = await import('../helpers/app.ts');
  const env = await newApp({ files: opts.files });
  const session = env.app.openSession({
    source: 'test',
    user: 'manager',
    userPrivilege: opts.userPrivilege ?? 15,
    enabled: (opts.userPrivilege ?? 15) >= 15,
    location: 'test',
    terminalLength: opts.rows ?? 0,
  });
  const input = new PassThrough();
  const output = new PassThrough();
  const screen = new Screen();
  let raw = '';
  output.on('data', (d: Buffer) => {
    raw += d.toString('utf8');
    screen.feed(d.toString('utf8'));
  });
  const editor = new LineEditor({ input, output, columns: 80, rows: opts.rows ?? 24 });
  const done = runInteractive(editor, session);
  input.write(keys);
  input.end();
  const result = await Promise.race([
    done,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`hung; screen:\n${screen.text()}`)), 10000).unref()),
  ]);
  editor.close();
  await env.close();
  return { screen: screen.text(), raw, result };
}

test('up-arrow recalls history; Ctrl-C discards the line', async () => {
  const { screen, result } = await typeInto('show clock | include Time:\r\x1b[A\rshow bogus\x03show history\r');
  assert.equal(result, 'eof');
  assert.equal(
    screen,
    [
      'awplus#show clock | include Time:',
      'UTC Time:   Sun, 03 Mar 2024 12:00:00 +0000',
      'awplus#show clock | include Time:',
      'UTC Time:   Sun, 03 Mar 2024 12:00:00 +0000',
      'awplus#show bogus^C',
      'awplus#show history',
      '   1  show clock | include Time:',
      '   2  show history',
      'awplus#',
    ].join('\n'),
  );
});

test('output uses CRLF line ends for raw ptys', async () => {
  const { raw } = await typeInto('show clock\r');
  assert.match(raw, /Timezone: UTC\r\n/);
  assert.doesNotMatch(raw.replace(/\r\n/g, ''), /\n/);
});

test('TAB lists the candidates when the prefix is not unique, and keeps the line', async () => {
  const { screen } = await typeInto('show s\tys\t\r');
  const rows = screen.split('\n');
  assert.equal(rows[0], 'awplus#show s');
  assert.equal(rows[1], 'ssh             startup-config  system');
  assert.equal(rows[2], 'awplus#show system');
  assert.match(screen, /System Name\n awplus/);
});

test('--More-- pages long output: space for a page, enter for a line, q to stop', async () => {
  const users = Array.from({ length: 12 }, (_, i) => `username user${i} password 8 $1$bJoVec4D$JwOJGPr7YqoExA0GVasdE0`).join('\n');
  const { screen, raw } = await typeInto('show running-config\r \rq', { rows: 6, files: { 'default.cfg': users + '\n' } });
  const rows = screen.split('\n');
  // 5 lines, --More--, space: 5 more, --More--, enter: 1 more, --More--, q.
  assert.equal(rows[0], 'awplus#show running-config');
  assert.equal(rows[1], '!');
  assert.equal(rows.filter((r) => r.startsWith('username ')).length, 10);
  assert.equal(raw.split('--More--').length - 1, 3);
  assert.ok(!screen.includes('--More--'), 'each --More-- is erased before the output goes on');
  assert.ok(!screen.includes('end'), 'q stops before the end of the output');
  assert.equal(rows[rows.length - 1], 'awplus#');
  const noPaging = await typeInto('terminal length 0\rshow running-config\r', { rows: 6, files: { 'default.cfg': users + '\n' } });
  assert.match(noPaging.screen, /\nend\nawplus#$/);
});

test('enable asks for the enable password without echo', async () => {
  const cfg = 'username op password oppass\nenable password s3cret\n';
  const good = await typeInto('enable\rs3cret\rshow running-config | include hostname\r', { userPrivilege: 1, files: { 'default.cfg': cfg } });
  assert.match(good.screen, /^awplus>enable\nPassword:\nawplus#show running-config/);
  assert.ok(!good.raw.includes('s3cret'));
  // The check takes a moment (a worker thread): a next line shows the prompt it came back to.
  const bad = await typeInto('enable\rwrong\rexit\r', { userPrivilege: 1, files: { 'default.cfg': cfg } });
  assert.match(bad.screen, /^awplus>enable\nPassword:\n% Bad passwords\nawplus>exit\n/);
});

test('a session closed underneath a pending read ends the loop as closed', async () => {
  const { newApp } = await import('../helpers/app.ts');
  const env = await newApp();
  const session = env.app.openSession({ source: 'test', user: 'manager', userPrivilege: 15, enabled: true, location: 'test' });
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  const editor = new LineEditor({ input, output });
  const done = runInteractive(editor, session);
  await new Promise((r) => setImmediate(r));
  session.close();
  assert.equal(await done, 'closed');
  editor.close();
  await env.close();
});
