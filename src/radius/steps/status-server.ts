/**
 * Status-Server (RFC 5997): a NAS, a proxy or a monitor asks whether this server is alive. The request
 * must carry a Message-Authenticator that verifies, whatever the NAS entry says (RFC 5997: without one
 * it is silently discarded); it is answered at once — an Access-Accept on the authentication port, an
 * Accounting-Response on the accounting port — Proxy-States echoed (RFC 2865 §5.33), with no login, no
 * record, no audit event (RFC 5997's reason to exist: a test login would fill the server's logs) and
 * no duplicate cache (the answer to a retransmission is the same bytes anyway). Other codes go on.
 */
import { encodeAccountingResponse, encodeResponse } from '../crypto.ts';
import { Attr, Code, type Attribute, type Packet } from '../packet.ts';
import { need, next, type Step } from '../step.ts';
import { messageAuthenticatorDrop } from './message-authenticator.ts';

function statusServer(answer: (request: Packet, proxyStates: Attribute[], secret: Buffer) => Buffer): Step {
  return (req, env) => {
    const p = need(req.packet, 'packet');
    if (p.code !== Code.StatusServer) return next;
    const secret = need(req.secret, 'secret');
    const refused = messageAuthenticatorDrop(p, secret, true);
    if (refused) return refused;
    env.stats.statusServer++;
    // The request held these Proxy-States and a Message-Authenticator, so the answer fits in 4096 octets.
    return { kind: 'reply', reply: answer(p, p.attributes.filter((a) => a.type === Attr.ProxyState), secret) };
  };
}

/** On the authentication port: an Access-Accept, Message-Authenticator first like every answer there. */
export const authenticationStatusServer = statusServer((p, proxyStates, secret) => encodeResponse(Code.AccessAccept, p, proxyStates, secret));

/** On the accounting port: an Accounting-Response. */
export const accountingStatusServer = statusServer(encodeAccountingResponse);
