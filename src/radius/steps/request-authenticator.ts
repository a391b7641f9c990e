/**
 * RFC 2866 §3: an Accounting-Request's authenticator is an MD5 over the packet and the shared secret;
 * one that does not verify (a wrong secret, a forged or altered packet) is silently discarded.
 */
import { checkAccountingRequest } from '../crypto.ts';
import { drop, need, next, type Step } from '../step.ts';

export const requestAuthenticator: Step = (req) => (checkAccountingRequest(need(req.packet, 'packet'), need(req.secret, 'secret')) ? next : drop('bad-request-authenticator'));
