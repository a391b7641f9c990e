/** The Accounting-Response (RFC 2866 §4.2), every Proxy-State of the request copied in order (RFC 2865 §5.33). */
import { encodeAccountingResponse } from '../crypto.ts';
import { Attr } from '../packet.ts';
import { need, type Step } from '../step.ts';

export const accountingResponse: Step = (req, env) => {
  const p = need(req.packet, 'packet');
  env.stats.responses++;
  // An Accounting-Request and its Proxy-States fit in 4096 octets, so the response does too.
  return { kind: 'reply', reply: encodeAccountingResponse(p, p.attributes.filter((a) => a.type === Attr.ProxyState), need(req.secret, 'secret')) };
};
