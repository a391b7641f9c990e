/**
 * Grammar engine on tiny inline grammars (FRR DUMMY_DEFUN, clipanion core tests): parsing, matching,
 * abbreviation, ambiguity, caret columns, `?` and TAB, privilege, and the grammar lints.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completeLine, formatHelp, helpFor } from '../../src/cli/match/complete.ts';
import { matchLine } from '../../src/cli/match/matcher.ts';
import { compileSources } from '../../src/cli/grammar/load.ts';

const TYPES = `@types
type word   WORD     word    A word
type line   LINE     line    Text
type ipv4   A.B.C.D  ipv4    IPv4 address
`;

function grammar(commands: string) {
  return compileSources({ 'modes.cli': '@modes\nmode exec prompt "{hostname}{level}"\n', 'types.cli': TYPES, 'test.cli': commands });
}

const TOY = `@mode exec
show version              => t.version
    show      Show things
    version   Software version
show 2fa users            => t.users
    2fa       Two-factor
    users     All users
show 2fa user <name:word> => t.user
    user      One user
ssh <host:ipv4>           => t.ssh
    ssh       Connect
[no] debug <level:1-7>    => t.debug
    debug     Debugging
    <level>   Level
    no        Negate
issuer <text:line>        => t.issuer
    issuer    Issuer
create <u:word> {random | secret <s:word>} [hotp] [qr {ansi | utf8}]  => t.create
    create    Create
    random    Random secret
    secret    Given secret
    hotp      Counter based
    qr        QR code
    ansi      ANSI
    utf8      UTF-8
configure terminal        => t.conf @privilege 15
    configure  Configure
    terminal   Terminal
`;

const root = () => grammar(TOY).modes.get('exec')!.root;

function matched(line: string, privilege = 15) {
  const r = matchLine(root(), line, privilege);
  assert.equal(r.kind, 'matched', `${line}: ${JSON.stringify(r)}`);
  return r.kind === 'matched' ? r.state : assert.fail();
}

test('exact and abbreviated keywords bind to the handler with converted args', () => {
  assert.equal(matched('show version').node.terminal!.handler, 't.version');
  assert.equal(matched('sh ver').node.terminal!.handler, 't.version');
  assert.equal(matched('  SH   VER  ').node.terminal!.handler, 't.version');
  const s = matched('debug 7');
  assert.equal(s.args['level'], 7);
  assert.equal(s.keywords[0], 'debug');
});

test('look-ahead: `us` means users because user needs a name; exact `user` never means users', () => {
  assert.equal(matched('sh 2fa us').node.terminal!.handler, 't.users');
  assert.equal(matched('sh 2fa user alice').args['name'], 'alice');
  assert.equal(matchLine(root(), 'sh 2fa user', 15).kind, 'incomplete');
});

test('ambiguous, incomplete and invalid with the caret on the first bad character', () => {
  assert.deepEqual(matchLine(root(), 's', 15), { kind: 'ambiguous', text: 's' });
  assert.deepEqual(matchLine(root(), 'sh', 15), { kind: 'incomplete' });
  assert.deepEqual(matchLine(root(), 'show versiox', 15), { kind: 'invalid', column: 11 });
  assert.deepEqual(matchLine(root(), 'show foo', 15), { kind: 'invalid', column: 5 });
  assert.deepEqual(matchLine(root(), 'ssh 10.0.0.300', 15), { kind: 'invalid', column: 4 });
  assert.deepEqual(matchLine(root(), 'debug 8', 15), { kind: 'invalid', column: 6 });
  assert.deepEqual(matchLine(root(), 'show version extra', 15), { kind: 'invalid', column: 13 });
  assert.deepEqual(matchLine(root(), '   ', 15), { kind: 'empty' });
});

test('no forms, LINE and choices', () => {
  const no = matched('no debug 3');
  assert.equal(no.keywords[0], 'no');
  assert.equal(no.node.terminal!.handler, 't.debug');
  assert.equal(matched('issuer My  Company | x ').args['text'], 'My  Company | x');
  const c = matched('create bob secret JBSWY hotp qr utf8');
  assert.deepEqual({ ...c.args }, { create: true, u: 'bob', secret: true, s: 'JBSWY', hotp: true, qr: true, utf8: true });
  assert.equal(matchLine(root(), 'create bob', 15).kind, 'incomplete');
  assert.equal(matchLine(root(), 'create bob hotp', 15).kind, 'invalid');
});

test('privilege hides commands from lower sessions', () => {
  assert.equal(matchLine(root(), 'conf t', 1).kind, 'invalid');
  assert.equal(matched('conf t', 15).node.terminal!.handler, 't.conf');
  const help = helpFor(root(), '', 1);
  assert.ok(help.kind === 'candidates' && !help.entries.some((e) => e.token === 'configure'));
});

test('? lists candidates with help, variables first, <cr> last', () => {
  const h = helpFor(root(), 'show 2fa ', 15);
  assert.equal(h.kind, 'candidates');
  assert.equal(formatHelp(h.kind === 'candidates' ? h.entries : []), '  user   One user\n  users  All users\n');
  const d = helpFor(root(), 'debug ', 15);
  assert.deepEqual(d.kind === 'candidates' ? d.entries.map((e) => e.token) : [], ['<1-7>']);
  const v = helpFor(root(), 'show version ', 15);
  assert.deepEqual(v.kind === 'candidates' ? v.entries.map((e) => e.token) : [], ['<cr>']);
  const p = helpFor(root(), 'sh', 15);
  assert.deepEqual(p.kind === 'candidates' ? p.entries.map((e) => e.token) : [], ['show']);
  assert.deepEqual(helpFor(root(), 'show bogus ', 15), { kind: 'invalid', column: 5 });
  assert.deepEqual(helpFor(root(), 's ', 15), { kind: 'ambiguous', text: 's' });
});

test('TAB completes a unique prefix, extends a common prefix, lists the rest', () => {
  assert.deepEqual(completeLine(root(), 'sh', 15), { line: 'show ', candidates: [] });
  assert.deepEqual(completeLine(root(), 'show 2fa u', 15), { line: 'show 2fa user', candidates: [] });
  assert.deepEqual(completeLine(root(), 'show 2fa user', 15), { line: 'show 2fa user', candidates: ['user', 'users'] });
  assert.deepEqual(completeLine(root(), 's', 15), { line: 's', candidates: ['show', 'ssh'] });
  assert.deepEqual(completeLine(root(), 'ssh 1', 15), { line: 'ssh 1', candidates: [] });
});

test('grammar lints: duplicate path, help conflict, missing help, unknown type, bad syntax', () => {
  assert.throws(() => grammar('@mode exec\nfoo => a.b\n    foo  Foo\nfoo => a.c\n'), /already defined/);
  assert.throws(() => grammar('@mode exec\nfoo bar => a.b\n    foo  Foo\n    bar  Bar\nfoo baz => a.c\n    foo  Other\n    baz  Baz\n'), /conflicts/);
  assert.throws(() => grammar('@mode exec\nfoo => a.b\n'), /no help for "foo"/);
  assert.throws(() => grammar('@mode exec\nfoo <x:nosuch> => a.b\n    foo  Foo\n'), /unknown type/);
  assert.throws(() => grammar('@mode exec\nfoo [bar => a.b\n    foo  Foo\n'), /missing '\]'/);
  assert.throws(() => grammar('@mode nowhere\nfoo => a.b\n    foo  Foo\n'), /unknown mode/);
  assert.throws(() => grammar('@mode exec\nfoo <x:line> bar => a.b\n    foo  Foo\n    bar  Bar\n'), /must be last/);
});
