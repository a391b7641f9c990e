/**
 * RADIUS packet framing (RFC 2865 §3, §5): code, identifier, length, authenticator, attributes as raw
 * type/value pairs. Parsing validates the framing strictly (length 20..4096, every attribute inside
 * the packet, no zero-length attribute) so a malformed packet is dropped before anything reads it.
 */

/** Packet codes we send or accept (RFC 2865 §3, RFC 2866 §4). */
export const Code = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
} as const;

/** Attribute types used here (RFC 2865 §5, RFC 2866 §5, RFC 2869 §5.1, §5.14, RFC 3579 §3.2). */
export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  FramedIpAddress: 8,
  ReplyMessage: 18,
  State: 24,
  Class: 25,
  SessionTimeout: 27,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  AcctStatusType: 40,
  AcctDelayTime: 41,
  AcctInputOctets: 42,
  AcctOutputOctets: 43,
  AcctSessionId: 44,
  AcctSessionTime: 46,
  AcctTerminateCause: 49,
  AcctInputGigawords: 52,
  AcctOutputGigawords: 53,
  EapMessage: 79,
  MessageAuthenticator: 80,
} as const;

/** One attribute: its type and raw value. */
export interface Attribute {
  readonly type: number;
  readonly value: Buffer;
}

/** A parsed packet; `raw` is the exact bytes received (for Message-Authenticator checks). */
export interface Packet {
  readonly code: number;
  readonly identifier: number;
  readonly authenticator: Buffer;
  readonly attributes: readonly Attribute[];
  readonly raw: Buffer;
}

/** Why a packet was not parsed. */
export class MalformedPacket extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'MalformedPacket';
  }
}

/** Parses a datagram; throws MalformedPacket on any framing error (RFC 2865 §3: silently discard). */
export function parsePacket(buf: Buffer): Packet {
  if (buf.length < 20) throw new MalformedPacket('shorter than a header');
  const length = buf.readUInt16BE(2);
  // RFC 2865 §3: octets beyond Length are padding and ignored; fewer than Length is malformed.
  if (length < 20 || length > MAX_PACKET_LENGTH || length > buf.length) throw new MalformedPacket('bad length');
  const attributes: Attribute[] = [];
  let pos = 20;
  while (pos < length) {
    if (pos + 2 > length) throw new MalformedPacket('truncated attribute header');
    const type = buf[pos]!;
    const len = buf[pos + 1]!;
    if (len < 2 || pos + len > length) throw new MalformedPacket(`bad length of attribute ${type}`);
    // Views, not copies: a received datagram is a buffer of its own that nothing else writes to.
    attributes.push({ type, value: buf.subarray(pos + 2, pos + len) });
    pos += len;
  }
  return { code: buf[0]!, identifier: buf[1]!, authenticator: buf.subarray(4, 20), attributes, raw: buf.subarray(0, length) };
}

/** RFC 2865 §3: "The maximum length is 4096". */
export const MAX_PACKET_LENGTH = 4096;

/** The length of a packet with these attributes: the 20-octet header and each attribute's type and length octets. */
export function packetLength(attributes: readonly Attribute[]): number {
  let length = 20;
  for (const a of attributes) length += a.value.length + 2;
  return length;
}

/** Builds a packet from its parts (the authenticator is written as given), into one buffer. */
export function encodePacket(code: number, identifier: number, authenticator: Buffer, attributes: readonly Attribute[]): Buffer {
  for (const a of attributes) if (a.value.length > 253) throw new Error(`attribute ${a.type} longer than 253 octets`);
  const length = packetLength(attributes);
  if (length > MAX_PACKET_LENGTH) throw new Error(`packet longer than ${MAX_PACKET_LENGTH} octets`);
  // Every octet is written below, so an uninitialised buffer shows nothing old.
  const pkt = Buffer.allocUnsafe(length);
  pkt[0] = code;
  pkt[1] = identifier;
  pkt.writeUInt16BE(length, 2);
  pkt.fill(0, 4 + authenticator.copy(pkt, 4, 0, 16), 20);
  let pos = 20;
  for (const a of attributes) {
    pkt[pos] = a.type;
    pkt[pos + 1] = a.value.length + 2;
    a.value.copy(pkt, pos + 2);
    pos += a.value.length + 2;
  }
  return pkt;
}

/** The first value of an attribute type. */
export function attr(p: { attributes: readonly Attribute[] }, type: number): Buffer | undefined {
  return p.attributes.find((a) => a.type === type)?.value;
}

/** A string attribute (UTF-8). */
export function text(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}
