/**
 * RADIUS integrity and hiding, by hand over node:crypto with constant-time comparisons (the npm
 * `radius` package compares MACs as UTF-8 strings and accepts forged ones: real-peers.md §5.1).
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { Attr, Code, encodePacket, type Attribute, type Packet } from './packet.ts';

const ZERO16 = Buffer.alloc(16);

/** One-shot MD5 (crypto.hash: no hash object to set up, which OpenSSL 3 makes costly per call). */
function md5(...parts: Buffer[]): Buffer {
  return hash('md5', parts.length === 1 ? parts[0]! : Buffer.concat(parts), 'buffer');
}

/** RFC 2865 §5.2 User-Password hiding: 16-octet blocks, c1 = p1 ⊕ MD5(S+RA), ci = pi ⊕ MD5(S+ci-1). */
export function hidePassword(password: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer {
  if (password.length > 128) throw new Error('password longer than 128 octets');
  const padded = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  password.copy(padded);
  const out = Buffer.alloc(padded.length);
  let prev = requestAuthenticator;
  for (let i = 0; i < padded.length; i += 16) {
    const b = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = padded[i + j]! ^ b[j]!;
    prev = out.subarray(i, i + 16);
  }
  return out;
}

/** Reverses hidePassword; undefined when the length is not a multiple of 16 within 16..128. */
export function unhidePassword(hidden: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer | undefined {
  if (hidden.length < 16 || hidden.length > 128 || hidden.length % 16 !== 0) return undefined;
  const out = Buffer.alloc(hidden.length);
  let prev = requestAuthenticator;
  for (let i = 0; i < hidden.length; i += 16) {
    const b = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = hidden[i + j]! ^ b[j]!;
    prev = hidden.subarray(i, i + 16);
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/** The Message-Authenticator value is an HMAC-MD5: 16 octets, so the attribute is 18 (RFC 3579 §3.2). */
const MA_VALUE_LENGTH = 16;

/**
 * Where the Message-Authenticator value sits in a packet's bytes: `none`, its offset, or `invalid` when
 * the packet carries more than one or one whose length is not 18 octets. RFC 3579 §3.2's table allows
 * "0-1" Message-Authenticator per packet and fixes its length at 18; a packet that breaks either rule
 * cannot be verified as the sender meant it, so it is treated like one that does not verify.
 */
function maOffset(p: Packet): number | 'none' | 'invalid' {
  let pos = 20;
  let found: number | undefined;
  for (const a of p.attributes) {
    if (a.type === Attr.MessageAuthenticator) {
      if (found !== undefined || a.value.length !== MA_VALUE_LENGTH) return 'invalid';
      found = pos + 2;
    }
    pos += a.value.length + 2;
  }
  return found ?? 'none';
}

/**
 * RFC 3579 §3.2: HMAC-MD5 over the packet with the Message-Authenticator zeroed. For a response, the
 * authenticator field holds the Request Authenticator of the request it answers.
 * @returns true when the one Message-Authenticator verifies; false when it does not, when there are
 *   two or more, or when its length is not 18 octets (all: silently discard); undefined when there is none.
 */
export function checkMessageAuthenticator(p: Packet, secret: Buffer, requestAuthenticator?: Buffer): boolean | undefined {
  const at = maOffset(p);
  if (at === 'none') return undefined;
  if (at === 'invalid') return false;
  const value = p.raw.subarray(at, at + MA_VALUE_LENGTH);
  // HMAC over the packet as if the value were zero (and, for a response, the request's authenticator
  // in its place), fed in pieces rather than from a modified copy.
  const h = createHmac('md5', secret);
  if (requestAuthenticator) h.update(p.raw.subarray(0, 4)).update(requestAuthenticator).update(p.raw.subarray(20, at));
  else h.update(p.raw.subarray(0, at));
  h.update(ZERO16).update(p.raw.subarray(at + MA_VALUE_LENGTH));
  return timingSafeEqual(h.digest(), value);
}

/**
 * Encodes a response with Message-Authenticator FIRST (BlastRADIUS, CVE-2024-3596: "Servers MUST add
 * Message-Authenticator as the first attribute in all responses to Access-Request packets"), then the
 * Response Authenticator MD5(Code+ID+Length+RequestAuth+Attributes+Secret) (RFC 2865 §3).
 */
export function encodeResponse(code: number, request: Packet, attributes: readonly Attribute[], secret: Buffer): Buffer {
  const pkt = encodePacket(code, request.identifier, request.authenticator, [{ type: Attr.MessageAuthenticator, value: ZERO16 }, ...attributes]);
  createHmac('md5', secret).update(pkt).digest().copy(pkt, 22);
  md5(pkt, secret).copy(pkt, 4);
  return pkt;
}

/** RFC 2866 §3: an Accounting-Request's authenticator is MD5(Code+Identifier+Length+16 zero octets+Attributes+Secret). */
export function checkAccountingRequest(p: Packet, secret: Buffer): boolean {
  return timingSafeEqual(md5(p.raw.subarray(0, 4), ZERO16, p.raw.subarray(20), secret), p.authenticator);
}

/**
 * An Accounting-Response (RFC 2866 §4.2), its authenticator MD5(Code+ID+Length+RequestAuth+Attributes+Secret)
 * (§3). No Message-Authenticator: RFC 3579 §3.2 asks for one with EAP only, and the response
 * authenticator already covers the whole packet with the secret.
 */
export function encodeAccountingResponse(request: Packet, attributes: readonly Attribute[], secret: Buffer): Buffer {
  const pkt = encodePacket(Code.AccountingResponse, request.identifier, request.authenticator, attributes);
  md5(pkt, secret).copy(pkt, 4);
  return pkt;
}

/** An Access-Request (or a Status-Server) with a random authenticator and Message-Authenticator first (client side). */
export function encodeRequest(identifier: number, authenticator: Buffer, attributes: readonly Attribute[], secret: Buffer, code: number = Code.AccessRequest): Buffer {
  const pkt = encodePacket(code, identifier, authenticator, [{ type: Attr.MessageAuthenticator, value: ZERO16 }, ...attributes]);
  createHmac('md5', secret).update(pkt).digest().copy(pkt, 22);
  return pkt;
}

/** RFC 2865 §3: a response's authenticator is MD5 over it with the request's authenticator, plus the secret. */
export function checkResponseAuthenticator(response: Packet, requestAuthenticator: Buffer, secret: Buffer): boolean {
  const copy = Buffer.from(response.raw);
  requestAuthenticator.copy(copy, 4);
  return timingSafeEqual(md5(copy, secret), response.authenticator);
}
