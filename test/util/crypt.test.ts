/**
 * crypt(3) hashes against vectors made by `openssl passwd` on the development machine plus Drepper's
 * published SHA-crypt vectors (fixtures/vectors/crypt.tsv), and the properties the CLI relies on: fresh
 * salts, verification that never throws, strict `password 8 HASH` shape checks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hashPassword, isCryptHash, md5Crypt, sha256Crypt, sha512Crypt, verifyPassword } from '../../src/util/crypt.ts';

type Row = readonly [alg: string, saltSpec: string, password: string, expected: string];

const rows: Row[] = readFileSync(new URL('../../fixtures/vectors/crypt.tsv', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => {
    const cols = l.split('\t');
    assert.equal(cols.length, 4, `malformed vector line: ${l}`);
    return cols as unknown as Row;
  });

/** The tsv's salt column is what was given to `openssl passwd -salt`: `[rounds=N$]salt`. */
function compute(alg: string, saltSpec: string, password: string): string {
  const m = /^rounds=(\d+)\$(.*)$/s.exec(saltSpec);
  const salt = m ? m[2]! : saltSpec;
  const rounds = m ? Number(m[1]) : undefined;
  if (alg === '1') return md5Crypt(password, salt);
  if (alg === '5') return sha256Crypt(password, salt, rounds);
  if (alg === '6') return sha512Crypt(password, salt, rounds);
  throw new Error(`unknown algorithm ${alg}`);
}

const DEVICE_EXAMPLE = '$1$bJoVec4D$JwOJGPr7YqoExA0GVasdE0';

test('the vector file covers every algorithm and the edge cases', () => {
  assert.ok(rows.length >= 20, `${rows.length} rows`);
  for (const alg of ['1', '5', '6']) assert.ok(rows.some((r) => r[0] === alg), `no $${alg}$ rows`);
  assert.ok(rows.some((r) => [...r[2]].length === 1), '1-char password');
  assert.ok(rows.some((r) => Buffer.byteLength(r[2]) > 64), 'password > 64 bytes');
  assert.ok(rows.some((r) => /[^\x00-\x7f]/.test(r[2])), 'non-ASCII password');
  assert.ok(rows.some((r) => r[0] === '1' && r[3].split('$')[2]!.length === 8), 'max-length $1$ salt');
  assert.ok(rows.some((r) => r[0] !== '1' && r[3].split('$').at(-2)!.length === 16), 'max-length $5$/$6$ salt');
  assert.ok(rows.some((r) => r[3].includes('$rounds=')), 'rounds= form');
});

for (const [alg, saltSpec, password, expected] of rows) {
  test(`$${alg}$ salt=${JSON.stringify(saltSpec)} password=${JSON.stringify(password.length > 24 ? `${password.slice(0, 24)}…` : password)}`, () => {
    assert.equal(compute(alg, saltSpec, password), expected);
    assert.equal(isCryptHash(expected), true, 'well-formed');
    assert.equal(verifyPassword(password, expected), true, 'verifies');
    assert.equal(verifyPassword(`${password}x`, expected), false, 'longer password');
    if (password !== '') assert.equal(verifyPassword(password.slice(0, -1), expected), false, 'shorter password');
  });
}

test('empty passwords and salts (openssl 3.0 prints <NULL> for these; values from libxcrypt crypt(3) via perl)', () => {
  assert.equal(sha512Crypt('', 'abc'), '$6$abc$mJP3a6FyA8uCnzRtlnNypPwjnvpi5TP9qOrInzrfDmwxUQG38PkpCPdqfTb8JQfAngapMxeim4AZ..hSdRRzD.');
  assert.equal(md5Crypt('', 'abc'), '$1$abc$Or2rbeUYTvt12aiVzMuS/.');
  const emptySalt = '$6$$KvRrc0bxRLyTUhO8OJOmRczh7oCol5BACiR8rmdfVzvuGgm8JmLDumsL/ah.jFtT.DswxoP9Nv3ByfU4j5hm/0';
  assert.equal(sha512Crypt('x', ''), emptySalt);
  assert.equal(verifyPassword('x', emptySalt), true);
});

test('salts stop at `$` and at the algorithm maximum, as crypt(3) reads a setting', () => {
  assert.equal(md5Crypt('friend', 'bJoVec4D$JwOJGPr7YqoExA0GVasdE0'), DEVICE_EXAMPLE);
  assert.equal(md5Crypt('friend', 'bJoVec4Dextra'), DEVICE_EXAMPLE);
  assert.equal(sha512Crypt('friend', 'abc$def'), sha512Crypt('friend', 'abc'));
});

test('rounds: explicit default is printed, out-of-range is clamped, non-integers throw', () => {
  assert.match(sha256Crypt('friend', 'abc', 5000), /^\$5\$rounds=5000\$abc\$/);
  assert.match(sha512Crypt('friend', 'abc', 1), /^\$6\$rounds=1000\$abc\$/);
  assert.doesNotMatch(sha512Crypt('friend', 'abc'), /rounds=/);
  assert.throws(() => sha512Crypt('friend', 'abc', 1.5), RangeError);
  assert.throws(() => sha512Crypt('friend', 'abc', Number.NaN), RangeError);
});

test('the real-device example is a well-formed $1$ hash (of the factory password)', () => {
  assert.equal(isCryptHash(DEVICE_EXAMPLE), true);
  assert.equal(verifyPassword('friend', DEVICE_EXAMPLE), true);
  assert.equal(verifyPassword('Friend', DEVICE_EXAMPLE), false);
});

test('hashPassword makes verifiable $6$ hashes with a fresh 16-character salt', () => {
  const a = hashPassword('friend');
  const b = hashPassword('friend');
  assert.match(a, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  assert.equal(isCryptHash(a), true);
  assert.notEqual(a, b);
  assert.notEqual(a.split('$')[2], b.split('$')[2]);
  assert.equal(verifyPassword('friend', a), true);
  assert.equal(verifyPassword('friend', b), true);
  assert.equal(verifyPassword('enemy', a), false);
  const unicode = hashPassword('pässwörd');
  assert.equal(verifyPassword('pässwörd', unicode), true);
  assert.equal(verifyPassword('passwort', unicode), false);
});

test('random salts use the whole alphabet', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) for (const c of hashPassword('').split('$')[2]!) seen.add(c);
  assert.ok(seen.size > 55, `only ${seen.size} distinct salt characters in 640`);
});

test('malformed hashes never verify and are not accepted as `password 8` values', () => {
  const sha = sha512Crypt('friend', 'abc');
  const bad = [
    DEVICE_EXAMPLE.slice(0, -1), // truncated digest
    sha.slice(0, -1),
    sha.slice(0, 20),
    `${DEVICE_EXAMPLE}x`, // digest too long
    DEVICE_EXAMPLE.replace('$1$', '$2$'), // unknown prefixes
    DEVICE_EXAMPLE.replace('$1$', '$2b$'),
    DEVICE_EXAMPLE.replace('$1$', '$y$'),
    DEVICE_EXAMPLE.replace('$1$', '1$'),
    sha.replace('$6$', '$5$'), // digest length of the other algorithm
    '$1$rounds=5000$bJoVec4D$JwOJGPr7YqoExA0GVasdE0', // $1$ has no rounds
    '$1$bJoVec4DX$JwOJGPr7YqoExA0GVasdE0', // salt too long
    sha.replace('$abc$', '$abcdefghijklmnopq$'),
    sha.replace('$abc$', '$a-c$'), // salt outside the alphabet
    sha.replace('$6$', '$6$rounds=999$'), // below the minimum: crypt(3) would have printed 1000
    sha.replace('$6$', '$6$rounds=05000$'),
    sha.replace('$6$', '$6$rounds=$'),
    sha.replace('$6$', '$6$rounds=1234567890$'),
    `${sha}\n`,
    ` ${sha}`,
    sha.replace(/.$/, '!'),
    'friend',
    '',
    '$6$$',
    '$1$',
  ];
  for (const h of bad) {
    assert.equal(isCryptHash(h), false, h);
    assert.equal(verifyPassword('friend', h), false, h);
  }
});

test('verifyPassword is false (never throws) for non-string input and absurd rounds', () => {
  const untyped = verifyPassword as (p: unknown, h: unknown) => boolean;
  assert.equal(untyped(undefined, DEVICE_EXAMPLE), false);
  assert.equal(untyped('friend', null), false);
  assert.equal(untyped('friend', 42), false);
  assert.equal((isCryptHash as (s: unknown) => boolean)(undefined), false);
  // 999,999,999 rounds would hold the event loop for many minutes: refused up front as a `password 8`
  // value, and never computed at login.
  const huge = sha512Crypt('friend', 'abc').replace('$6$', '$6$rounds=999999999$');
  assert.equal(isCryptHash(huge), false);
  assert.equal(verifyPassword('friend', huge), false);
});

test('a wrong password of the same length is rejected for every algorithm', () => {
  for (const h of [md5Crypt('secret', 'abcdefgh'), sha256Crypt('secret', 'abc', 1000), sha512Crypt('secret', 'abc')]) {
    assert.equal(verifyPassword('secret', h), true, h);
    assert.equal(verifyPassword('secreT', h), false, h);
  }
});
