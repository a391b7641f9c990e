/**
 * The line editor with a real session behind it: history, Ctrl-C, TAB listings, `--More--` paging,
 * secret questions, a session that ends underneath a pending read (reboot), and EOF.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runInteractive } from '../../src/terminal/bind.ts';
import { LineEditor } from '../../src/terminal/line-editor.ts';
import { newApp } from '../helpers/app.ts';
import { Screen } from '../helpers/screen.ts';

/** Types `keys` into a terminal bound to a fresh session; returns the screen once input ends. */
async function typeInto(keys: string, opts: { userPrivilege?: number; files?: Record<string, string>; rows?: number } = {}) {
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
  assert.equal(rows[1], 'startup-config  system');
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
  const bad = await typeInto('enable\rwrong\r', { userPrivilege: 1, files: { 'default.cfg': cfg } });
  assert.match(bad.screen, /^awplus>enable\nPassword:\n% Bad passwords\nawplus>$/);
});

test('a session closed underneath a pending read ends the loop as closed', async () => {
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
