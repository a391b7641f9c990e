/**
 * crypt(3) hashes against vectors made by OpenSSL on this machine (fixtures/vectors/crypt.tsv), and the
 * properties the CLI relies on: fresh salts, constant-time verification, strict shape checks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hashPassword, isCryptHash, md5Crypt, sha256Crypt, sha512Crypt, verifyPassword } from '../../src/util/crypt.ts';

const rows = readFileSync(new URL('../../fixtures/vectors/crypt.tsv', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split('\t') as [string, string, string, string]);

test('OpenSSL vectors for $1$, $5$ and $6$, including rounds=', () => {
  assert.ok(rows.length >= 20);
  for (const [alg, saltSpec, password, expected] of rows) {
    const m = /^rounds=(\d+)\$(.*)$/.exec(saltSpec);
    const [salt, rounds] = m ? [m[2]!, Number(m[1])] : [saltSpec, undefined];
    const got = alg === '1' ? md5Crypt(password, salt) : alg === '5' ? sha256Crypt(password, salt, rounds) : sha512Crypt(password, salt, rounds);
    assert.equal(got, expected, `${alg} ${saltSpec} ${password}`);
    assert.ok(isCryptHash(expected), expected);
    assert.equal(verifyPassword(password, expected), true);
    assert.equal(verifyPassword(password + 'x', expected), false);
  }
});

test('new hashes are $6$ with a fresh 16-character salt', () => {
  const a = hashPassword('friend');
  const b = hashPassword('friend');
  assert.match(a, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  assert.notEqual(a, b);
  assert.ok(verifyPassword('friend', a) && verifyPassword('friend', b));
});

test('malformed hashes never verify and are not accepted as `password 8` values', () => {
  const good = '$1$bJoVec4D$JwOJGPr7YqoExA0GVasdE0';
  for (const bad of [good.slice(0, -1), '$2$bJoVec4D$JwOJGPr7YqoExA0GVasdE0', '$1$rounds=5$x$JwOJGPr7YqoExA0GVasdE0', 'friend', '', '$6$$']) {
    assert.equal(isCryptHash(bad), false, bad);
    assert.equal(verifyPassword('friend', bad), false, bad);
  }
});
