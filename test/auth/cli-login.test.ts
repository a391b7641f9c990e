/**
 * CLI login throttling (issue #17 item 15): per address, and per account across addresses, such that
 * one address cannot lock an account out for everyone and many addresses cannot share out the guesses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCOUNT_FAILURES, CliLogin, type Account } from '../../src/auth/cli-login.ts';
import { hashPassword } from '../../src/util/crypt.ts';
import { memoryLog } from '../../src/util/log.ts';
import { checkOnEventLoop } from '../helpers/on-event-loop.ts';

const accounts = new Map<string, Account>([['manager', { name: 'manager', privilege: 15, hash: hashPassword('right-pw') }]]);

function login() {
  let now = 0;
  const log = memoryLog();
  const cli = new CliLogin(() => accounts, checkOnEventLoop, log, () => now, 0);
  const attempt = async (address: string | undefined, password: string, user = 'manager') =>
    (await cli.login({ user, password, via: address ? 'ssh' : 'console', address })) !== undefined;
  const reasons = () => log.events.filter((e) => e.event === 'login-failed').map((e) => e.fields['reason']);
  return { attempt, reasons, advance: (ms: number) => (now += ms) };
}

test('one address guessing without end is throttled, but cannot lock the account out for anyone else', async () => {
  const l = login();
  for (let i = 0; i < 100; i++) assert.equal(await l.attempt('192.0.2.66', `guess${i}`), false, 'a guess got in');
  assert.ok(l.reasons().includes('throttled'), 'the guessing address was never throttled');
  assert.ok(!l.reasons().includes('account-throttled'), 'one address throttled the account');
  assert.equal(await l.attempt('198.51.100.7', 'right-pw'), true, 'the owner was locked out by one address');
  assert.equal(await l.attempt('192.0.2.66', 'right-pw'), false, 'the guessing address got in while throttled');
});

test('many addresses sharing out the guesses: the account is closed to new addresses, open to known ones and the console', async () => {
  const l = login();
  assert.equal(await l.attempt('198.51.100.7', 'right-pw'), true, 'the owner\'s first login');
  // Each address stays under its own limit (2 guesses each): only the per-account count can stop this.
  for (let i = 0; i < ACCOUNT_FAILURES; i++) {
    assert.equal(await l.attempt(`203.0.113.${i}`, `guess${i}a`), false);
    assert.equal(await l.attempt(`203.0.113.${i}`, `guess${i}b`), false);
  }
  assert.equal(await l.attempt('203.0.113.200', 'right-pw'), false, 'a new address guessed the password while the account was under attack');
  assert.equal(l.reasons().at(-1), 'account-throttled', 'not refused as account-throttled');
  assert.equal(await l.attempt('198.51.100.7', 'right-pw'), true, 'the owner\'s known address was locked out');
  assert.equal(await l.attempt(undefined, 'right-pw'), true, 'the console was locked out');
  // Other accounts are not affected; after the window the account opens again.
  assert.ok(!l.reasons().slice(-1).includes('throttled'), 'per-address throttle instead');
  l.advance(11 * 60_000);
  assert.equal(await l.attempt('203.0.113.200', 'right-pw'), true, 'the account stayed closed after the window');
});

test('a flood of addresses and names keeps memory bounded', async () => {
  const cli = new CliLogin(() => accounts, checkOnEventLoop, memoryLog(), () => 0, 0, 50);
  for (let i = 0; i < 200; i++) await cli.login({ user: `user${i}`, password: 'x', via: 'ssh', address: `10.0.${i >> 8}.${i & 255}` });
  assert.deepEqual(cli.tracked(), { addresses: 50, accounts: 50 }, 'not bounded');
  assert.ok(await cli.login({ user: 'manager', password: 'right-pw', via: 'ssh', address: '198.51.100.7' }), 'the owner cannot log in after the flood');
});

/** A password check that takes a while, as one in a worker thread does: attempts overlap. */
const slowCheck = async (password: string, hash: string) => {
  await new Promise((r) => setTimeout(r, 20));
  return checkOnEventLoop(password, hash);
};

test('attempts that arrive together cannot all pass the throttle while their passwords are checked', async () => {
  const log = memoryLog();
  const cli = new CliLogin(() => accounts, slowCheck, log, () => 0, 0);
  const attempts: Promise<unknown>[] = [];
  for (let i = 0; i < 40; i++) {
    attempts.push(cli.login({ user: 'manager', password: `guess${i}`, via: 'ssh', address: '192.0.2.66' }));
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(attempts);
  const reasons = log.events.filter((e) => e.event === 'login-failed').map((e) => e.fields['reason']);
  assert.equal(reasons.filter((r) => r === 'bad-password').length, 5, 'more guesses were checked than the per-address limit');
  assert.equal(reasons.filter((r) => r === 'throttled').length, 35);
});

test('an account changed while its password is being checked: the old password does not get in, a new privilege applies', async () => {
  const hash = hashPassword('old-pw');
  let table = new Map<string, Account>([['op', { name: 'op', privilege: 15, hash }]]);
  const cli = new CliLogin(() => table, slowCheck, memoryLog(), () => 0, 0);
  const changedPassword = cli.login({ user: 'op', password: 'old-pw', via: 'ssh', address: '198.51.100.7' });
  table = new Map([['op', { name: 'op', privilege: 15, hash: hashPassword('new-pw') }]]);
  assert.equal(await changedPassword, undefined, 'the replaced password got in');
  table = new Map([['op', { name: 'op', privilege: 15, hash }]]);
  const demoted = cli.login({ user: 'op', password: 'old-pw', via: 'ssh', address: '198.51.100.7' });
  table = new Map([['op', { name: 'op', privilege: 1, hash }]]);
  assert.equal((await demoted)?.privilege, 1, 'the login kept the privilege it had when it started');
});
