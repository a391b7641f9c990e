/**
 * The answer: Accept, Reject or Challenge (Reply-Message + State, RFC 2865 §4.4), every Proxy-State of
 * the request copied in order (RFC 2865 §5.33), Message-Authenticator first (crypto.encodeResponse).
 */
import { encodeResponse } from '../crypto.ts';
import { Attr, Code, text, type Attribute } from '../packet.ts';
import { need, type Step } from '../step.ts';

export const reply: Step = (req) => {
  const p = need(req.packet, 'packet');
  const d = need(req.decision, 'decision');
  const attrs: Attribute[] = [];
  if (d.kind === 'challenge') attrs.push({ type: Attr.ReplyMessage, value: text(d.prompt) }, { type: Attr.State, value: d.token });
  if (d.kind === 'reject' && d.message) attrs.push({ type: Attr.ReplyMessage, value: text(d.message) });
  for (const a of p.attributes) if (a.type === Attr.ProxyState) attrs.push(a);
  const code = d.kind === 'accept' ? Code.AccessAccept : d.kind === 'reject' ? Code.AccessReject : Code.AccessChallenge;
  return { kind: 'reply', reply: encodeResponse(code, p, attrs, need(req.secret, 'secret')) };
};
