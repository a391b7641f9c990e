/**
 * Session mechanics on a toy grammar: a throwing handler is an internal error and the session lives
 * on, walk-up in boot files only, `do` keeps the config mode, questions without a host.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSources } from '../../src/cli/grammar/load.ts';
import type { HandlerTable } from '../../src/session/context.ts';
import { checkBindings, Session } from '../../src/session/session.ts';

const grammar = compileSources({
  'modes.cli': '@modes\nmode exec prompt "{hostname}{level}"\nmode config prompt "{hostname}(config)#" parent exec do\nmode sub prompt "{hostname}(config-sub)#" parent config do\n',
  'types.cli': '@types\ntype line LINE line Text\n',
  't.cli': `@mode exec
boom      => t.boom
    boom  Throws
ask       => t.ask
    ask   Asks
conf      => t.conf
    conf  Configure
@mode config
sub       => t.sub
    sub   Enter sub
global    => t.global
    global  A global command
do <command:line> => t.do
    do    Exec command
    <command>  Command
@mode sub
inner     => t.inner
    inner  Inner command
do <command:line> => t.do
    do    Exec command
    <command>  Command
`,
});

const calls: string[] = [];
const handlers: HandlerTable<null> = {
  't.boom': () => {
    throw new Error('kaboom');
  },
  't.ask': async (ctx) => {
    const a = await ctx.session.ask('Sure? ');
    ctx.out.line(`answer=${a}`);
  },
  't.conf': (ctx) => ctx.session.enter('config'),
  't.sub': (ctx) => ctx.session.enter('sub'),
  't.global': () => void calls.push('global'),
  't.inner': () => void calls.push('inner'),
  't.do': (ctx) => ctx.session.runExec(ctx.args['command'] as string),
};

function session(source: 'test' | 'file', errors: unknown[] = []) {
  return new Session(
    { grammar, handlers, app: null, hostname: () => 'box', now: () => 0, internalError: (e) => void errors.push(e) },
    { id: 1, source, user: 'u', userPrivilege: 15, enabled: true },
  );
}

test('bindings are checked both ways', () => {
  assert.deepEqual(checkBindings(grammar, handlers), []);
  assert.deepEqual(checkBindings(grammar, { ...handlers, 't.extra': () => {} }), ['handler "t.extra" is bound by no grammar line']);
});

test('a handler that throws is reported as an internal error and the session lives on', async () => {
  const errors: unknown[] = [];
  const s = session('test', errors);
  const r = await s.execute('boom');
  assert.deepEqual(r, { output: '% Internal error: kaboom\n', ok: false, closed: false });
  assert.equal(errors.length, 1);
  assert.equal((await s.execute('ask')).output, 'answer=null\n');
});

test('walk-up: boot files retry parent modes, interactive sessions do not', async () => {
  const file = session('file');
  await file.execute('conf');
  await file.execute('sub');
  assert.equal((await file.execute('global')).ok, true);
  assert.equal(file.mode, 'config');
  const tty = session('test');
  await tty.execute('conf');
  await tty.execute('sub');
  const r = await tty.execute('global');
  assert.equal(r.ok, false);
  assert.equal(tty.mode, 'sub');
});

test('do runs an EXEC command and stays in the config sub-mode; questions go to the host', async () => {
  const s = session('test');
  await s.execute('conf');
  await s.execute('sub');
  s.setHost({ ask: async (pending, question) => `${pending}|${question}|yes` });
  assert.equal((await s.execute('do ask')).output, 'answer=|Sure? |yes\n');
  assert.equal(s.mode, 'sub');
  assert.equal(s.prompt(), 'box(config-sub)#');
  const bad = await s.execute('do bogus');
  // box(config-sub)#do bogus: the caret sits under the first character no EXEC keyword accepts ("g").
  assert.equal(bad.output, `${' '.repeat('box(config-sub)#do bo'.length)}^\n% Invalid input detected at '^' marker.\n`);
});
