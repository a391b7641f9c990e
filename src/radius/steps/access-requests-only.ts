/** This server answers Access-Requests only (RFC 2865 §4.1); anything else is dropped and counted. */
import { Code } from '../packet.ts';
import { drop, need, next, type Step } from '../step.ts';

export const accessRequestsOnly: Step = (req) => (need(req.packet, 'packet').code === Code.AccessRequest ? next : drop('not-access-request'));
