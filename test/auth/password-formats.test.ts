/** How an OpenVPN password carries the code (SCRV1, `2fa-in-password`). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScrv1, splitCodeFromPassword } from '../../src/auth/password-formats.ts';

test('OpenVPN password formats: SCRV1, and <password><code> with scratch codes tried first', async () => {
  assert.deepEqual(parseScrv1(Buffer.from('SCRV1:YWxpY2Vwdw==:MTIzNDU2')), { password: Buffer.from('alicepw'), code: '123456' });
  assert.equal(parseScrv1(Buffer.from('SCRV1:not base64!:MTIz')), undefined);
  assert.equal(parseScrv1(Buffer.from('plain')), undefined);
  const none = async () => false;
  assert.deepEqual(await splitCodeFromPassword(Buffer.from('pw123456'), none), { password: Buffer.from('pw'), code: '123456' });
  assert.deepEqual(await splitCodeFromPassword(Buffer.from('pw12345678'), none), { password: Buffer.from('pw12'), code: '345678' });
  assert.deepEqual(await splitCodeFromPassword(Buffer.from('pw12345678'), async (c) => c === '12345678'), { password: Buffer.from('pw'), code: '12345678' });
  assert.deepEqual(await splitCodeFromPassword(Buffer.from('pw12345'), none), { password: Buffer.from('pw12345'), code: undefined });
});
