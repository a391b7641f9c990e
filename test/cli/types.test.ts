/**
 * Parameter types: what each validator accepts and what it converts the word to.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinValidators as v } from '../../src/cli/types.ts';

const accepts = (name: string, word: string, arg?: string) => v[name]!(word, arg);

test('ranges convert to numbers and respect their bounds', () => {
  assert.deepEqual(accepts('range', '15', '1-15'), { ok: true, value: 15 });
  assert.deepEqual(accepts('range', '0', '1-15'), { ok: false });
  assert.deepEqual(accepts('range', '1x', '1-15'), { ok: false });
  assert.deepEqual(accepts('range', '00012', '0-512'), { ok: true, value: 12 });
});

test('A.B.C.D, hostnames and e-mail addresses', () => {
  assert.equal(accepts('ipv4', '192.168.0.255').ok, true);
  for (const bad of ['256.1.1.1', '1.2.3', '01.2.3.4x', 'a.b.c.d']) assert.equal(accepts('ipv4', bad).ok, false, bad);
  assert.equal(accepts('hostname', 'core-1.lab_x').ok, true);
  for (const bad of ['-core', 'bad!name', 'x'.repeat(64)]) assert.equal(accepts('hostname', bad).ok, false, bad);
  assert.equal(accepts('email', 'alice.b+vpn@example.co.jp').ok, true);
  for (const bad of ['alice', 'a@', '@b.c', 'a@-b.c']) assert.equal(accepts('email', bad).ok, false, bad);
});

test('time of day and month names', () => {
  assert.deepEqual(accepts('time', '23:59:30'), { ok: true, value: { hours: 23, minutes: 59, seconds: 30 } });
  for (const bad of ['24:00:00', '12:60:00', '12:00', '1:2:3']) assert.equal(accepts('time', bad).ok, false, bad);
  assert.deepEqual(accepts('month', 'Feb'), { ok: true, value: 2 });
  assert.deepEqual(accepts('month', 'september'), { ok: true, value: 9 });
  assert.deepEqual(accepts('month', 'ju'), { ok: false });
});
