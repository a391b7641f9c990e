/**
 * The answer: Accept, Reject or Challenge (Reply-Message + State, RFC 2865 §4.4), every Proxy-State of
 * the request copied in order (RFC 2865 §5.33), Message-Authenticator first (crypto.encodeResponse).
 *
 * A reply is at most 4096 octets (RFC 2865 §3) and must carry back every Proxy-State it was sent
 * (§5.33). An Accept always fits (the request held those Proxy-States, a User-Password at least as
 * long as our Message-Authenticator, and a User-Name), so no accepted code is ever lost to this; a
 * Challenge or a Reject with a Reply-Message may not. Such a request cannot be answered at all: that is
 * an expected condition anyone with the NAS secret can cause, so it is dropped and counted
 * (reply-too-large), never thrown as an internal error.
 */
import { encodeResponse } from '../crypto.ts';
import { Attr, Code, MAX_PACKET_LENGTH, packetLength, text, type Attribute } from '../packet.ts';
import { drop, need, type Step } from '../step.ts';

/** Our Message-Authenticator, which encodeResponse puts first (RFC 3579 §3.2: 18 octets). */
const MESSAGE_AUTHENTICATOR = 18;

export const reply: Step = (req) => {
  const p = need(req.packet, 'packet');
  const d = need(req.decision, 'decision');
  const attrs: Attribute[] = [];
  if (d.kind === 'challenge') attrs.push({ type: Attr.ReplyMessage, value: text(d.prompt) }, { type: Attr.State, value: d.token });
  if (d.kind === 'reject' && d.message) attrs.push({ type: Attr.ReplyMessage, value: text(d.message) });
  for (const a of p.attributes) if (a.type === Attr.ProxyState) attrs.push(a);
  if (packetLength(attrs) + MESSAGE_AUTHENTICATOR > MAX_PACKET_LENGTH) return drop('reply-too-large');
  const code = d.kind === 'accept' ? Code.AccessAccept : d.kind === 'reject' ? Code.AccessReject : Code.AccessChallenge;
  return { kind: 'reply', reply: encodeResponse(code, p, attrs, need(req.secret, 'secret')) };
};
