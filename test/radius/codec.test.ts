/**
 * RADIUS codec pieces against independent oracles: User-Password hiding (RFC 2865 §5.2) and
 * Message-Authenticator (RFC 3579 §3.2) cross-checked by hand-computed MD5/HMAC; strict framing.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { checkMessageAuthenticator, checkResponseAuthenticator, encodeRequest, encodeResponse, hidePassword, unhidePassword } from '../../src/radius/crypto.ts';
import { Attr, encodePacket, MalformedPacket, parsePacket } from '../../src/radius/packet.ts';

const secret = Buffer.from('xyzzy5461');
const ra = Buffer.from('0f403f9473978057bd83d5cb98f4227a', 'hex');

test('User-Password hiding: first block is p1 XOR MD5(secret + RA), round trips, rejects bad lengths', () => {
  const hidden = hidePassword(Buffer.from('arctangent'), secret, ra);
  const b1 = createHash('md5').update(secret).update(ra).digest();
  const p1 = Buffer.alloc(16);
  Buffer.from('arctangent').copy(p1);
  assert.deepEqual(hidden, Buffer.from(p1.map((x, i) => x ^ b1[i]!)));
  assert.equal(unhidePassword(hidden, secret, ra)!.toString(), 'arctangent');
  const long = 'x'.repeat(40);
  assert.equal(unhidePassword(hidePassword(Buffer.from(long), secret, ra), secret, ra)!.toString(), long);
  assert.equal(unhidePassword(Buffer.alloc(15), secret, ra), undefined);
  assert.equal(unhidePassword(Buffer.alloc(144), secret, ra), undefined);
});

test('requests and responses carry Message-Authenticator first, and both authenticators verify', () => {
  const req = parsePacket(encodeRequest(9, ra, [{ type: Attr.UserName, value: Buffer.from('alice') }], secret));
  assert.equal(req.attributes[0]!.type, Attr.MessageAuthenticator);
  assert.equal(checkMessageAuthenticator(req, secret), true);
  assert.equal(checkMessageAuthenticator(req, Buffer.from('other')), false);
  // Independent HMAC over the packet with the MA zeroed.
  const zeroed = Buffer.from(req.raw);
  zeroed.fill(0, 22, 38);
  assert.deepEqual(createHmac('md5', secret).update(zeroed).digest(), req.attributes[0]!.value);
  const resp = parsePacket(encodeResponse(2, req, [{ type: Attr.ReplyMessage, value: Buffer.from('hi') }], secret));
  assert.equal(resp.attributes[0]!.type, Attr.MessageAuthenticator);
  assert.equal(checkMessageAuthenticator(resp, secret, req.authenticator), true);
  assert.equal(checkResponseAuthenticator(resp, req.authenticator, secret), true);
  const tampered = Buffer.from(resp.raw);
  tampered[tampered.length - 1] ^= 1;
  assert.equal(checkResponseAuthenticator(parsePacket(tampered), req.authenticator, secret), false);
  assert.equal(checkMessageAuthenticator(parsePacket(tampered), secret, req.authenticator), false);
  const plain = parsePacket(encodePacket(1, 1, ra, [{ type: Attr.UserName, value: Buffer.from('a') }]));
  assert.equal(checkMessageAuthenticator(plain, secret), undefined);
});

test('framing: short, overlong and overrunning packets are malformed; padding past Length is ignored', () => {
  const good = encodePacket(1, 1, ra, [{ type: Attr.UserName, value: Buffer.from('a') }]);
  assert.equal(parsePacket(Buffer.concat([good, Buffer.alloc(5)])).raw.length, good.length);
  for (const bad of [good.subarray(0, 19), Buffer.concat([good.subarray(0, 2), Buffer.from([0x10, 0x01]), good.subarray(4)])]) {
    assert.throws(() => parsePacket(bad), MalformedPacket);
  }
  const overrun = Buffer.from(good);
  overrun[21] = 10; // attribute length past the end
  assert.throws(() => parsePacket(overrun), MalformedPacket);
  const zeroLen = Buffer.from(good);
  zeroLen[21] = 0;
  assert.throws(() => parsePacket(zeroLen), MalformedPacket);
});
