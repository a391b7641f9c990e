/** The accounting port answers Accounting-Requests only (RFC 2866 §4.1); anything else is dropped and counted. */
import { Code } from '../packet.ts';
import { drop, need, next, type Step } from '../step.ts';

export const accountingRequestsOnly: Step = (req) => (need(req.packet, 'packet').code === Code.AccountingRequest ? next : drop('not-accounting-request'));
