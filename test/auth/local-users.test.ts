/**
 * The local users' first factor: a password is checked in full once, then remembered; a check that
 * the checker refuses is no verdict; a user changed while the check runs does not get in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalUsers } from '../../src/auth/local-users.ts';
import { hashPassword } from '../../src/util/crypt.ts';
import { PoolBusy } from '../../src/util/worker-pool.ts';
import { checkOnEventLoop } from '../helpers/on-event-loop.ts';

const pw = (s: string) => Buffer.from(s);

test('a password is checked in full once, then remembered while the hash stays the same', async () => {
  let checks = 0;
  const table = new Map([['bob', hashPassword('bobpw')]]);
  const local = new LocalUsers(() => table, (p, h) => (checks++, checkOnEventLoop(p, h)));
  assert.equal((await local.check('bob', pw('bobpw'))).answer, 'accept');
  assert.equal((await local.check('bob', pw('bobpw'))).answer, 'accept');
  assert.equal(checks, 1, 'the remembered password was checked again');
  assert.equal((await local.check('bob', pw('wrong'))).answer, 'reject');
  table.set('bob', hashPassword('newpw'));
  assert.equal((await local.check('bob', pw('bobpw'))).answer, 'reject', 'the old password was still remembered');
  assert.equal((await local.check('nobody', pw('x'))).answer, 'reject');
});

test('a check the checker refuses (too many waiting) is no verdict', async () => {
  const local = new LocalUsers(() => new Map([['bob', hashPassword('bobpw')]]), () => Promise.reject(new PoolBusy()));
  assert.equal((await local.check('bob', pw('bobpw'))).answer, 'timeout');
});

test('a user removed, or given a new password, while the old one is being checked does not get in', async () => {
  let table = new Map([['bob', hashPassword('bobpw')]]);
  let checks = 0;
  const slow = async (p: string, h: string) => {
    checks++;
    await new Promise((r) => setTimeout(r, 20));
    return checkOnEventLoop(p, h);
  };
  const local = new LocalUsers(() => table, slow);
  const removed = local.check('bob', pw('bobpw'));
  const old = table.get('bob')!;
  table = new Map();
  assert.equal((await removed).answer, 'reject');
  table = new Map([['bob', old]]);
  const changed = local.check('bob', pw('bobpw'));
  table = new Map([['bob', hashPassword('newpw')]]);
  assert.equal((await changed).answer, 'reject');
  // Nothing of those checks was remembered: the next login is checked in full.
  table = new Map([['bob', old]]);
  assert.equal((await local.check('bob', pw('bobpw'))).answer, 'accept');
  assert.equal(checks, 3);
});
