/**
 * RFC 3579 §3.2: a Message-Authenticator that does not verify means the packet is silently discarded;
 * a NAS entry with `require-message-authenticator` (BlastRADIUS, CVE-2024-3596) drops requests
 * without one.
 */
import { checkMessageAuthenticator } from '../crypto.ts';
import { drop, need, next, type Step } from '../step.ts';

export const messageAuthenticator: Step = (req) => {
  const ma = checkMessageAuthenticator(need(req.packet, 'packet'), need(req.secret, 'secret'));
  if (ma === false) return drop('bad-message-authenticator');
  if (ma === undefined && need(req.nas, 'nas').requireMessageAuthenticator) return drop('missing-message-authenticator');
  return next;
};
