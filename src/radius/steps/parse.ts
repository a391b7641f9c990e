/** RFC 2865 §3: a packet whose framing is malformed is silently discarded. */
import { MalformedPacket, parsePacket } from '../packet.ts';
import { drop, next, type Step } from '../step.ts';

export const parse: Step = (req) => {
  try {
    req.packet = parsePacket(req.datagram);
  } catch (e) {
    if (e instanceof MalformedPacket) return drop('malformed');
    throw e;
  }
  return next;
};
