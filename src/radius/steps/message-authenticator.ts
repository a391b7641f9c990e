/**
 * RFC 3579 §3.2: a Message-Authenticator that does not verify means the packet is silently discarded;
 * a NAS entry with `require-message-authenticator` (BlastRADIUS, CVE-2024-3596) drops requests
 * without one.
 */
import { checkMessageAuthenticator } from '../crypto.ts';
import type { Packet } from '../packet.ts';
import { drop, need, next, type Step, type StepResult } from '../step.ts';

/** The drop for a Message-Authenticator that does not verify, or is missing where `required`; undefined when the packet may go on. */
export function messageAuthenticatorDrop(p: Packet, secret: Buffer, required: boolean): StepResult | undefined {
  const ma = checkMessageAuthenticator(p, secret);
  if (ma === false) return drop('bad-message-authenticator');
  if (ma === undefined && required) return drop('missing-message-authenticator');
  return undefined;
}

export const messageAuthenticator: Step = (req) =>
  messageAuthenticatorDrop(need(req.packet, 'packet'), need(req.secret, 'secret'), need(req.nas, 'nas').requireMessageAuthenticator) ?? next;
