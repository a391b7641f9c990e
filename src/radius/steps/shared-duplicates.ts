/**
 * RFC 5080 §2.2.2 across the appliances of a group (SPEC §16), after the local duplicate cache missed:
 * a NAS that got no answer from one appliance retries on another, which must answer as the first did
 * — had the first accepted, deciding again would reject the code as used. The first appliance to see
 * a request claims it in the shared store and records its decision; another drops the request while
 * it is being decided (the NAS retries) and then answers with that decision, encoded with its own
 * secret and the request's Proxy-State (the reply step).
 */
import { decodeDecision, encodeDecision, sharedKey, type SharedClaim, type SharedDecisions } from '../shared-decisions.ts';
import { drop, need, next, type RadiusRequest, type StepEnv, type StepResult } from '../step.ts';
import { reply } from './reply.ts';

export async function sharedDuplicates(req: RadiusRequest, env: StepEnv, shared: SharedDecisions): Promise<StepResult> {
  // A plain NAS entry (the local users' passwords) spends nothing: every appliance answers it alike.
  if (need(req.nas, 'nas').twofa === 'off') return next;
  const key = sharedKey(req.from.address, need(req.packet, 'packet'), req.datagram);
  let claim: SharedClaim;
  try {
    claim = await shared.claim(key);
  } catch {
    // The store cannot answer: decided here, where a login that needs the store is refused
    // (fail closed); the store logs the outage once.
    return next;
  }
  if (claim.kind === 'in-progress') return drop('in-progress');
  if (claim.kind === 'done') {
    const decision = decodeDecision(claim.decision);
    if (decision === undefined) return next;
    env.stats.duplicates++;
    req.decision = decision;
    return reply(req, env);
  }
  // 'different': another request under the same key; decided here, and its decision is not shared.
  if (claim.kind === 'claimed') {
    req.onAnswer.push((answer) => {
      const decision = answer !== undefined && req.decision !== undefined ? encodeDecision(req.decision) : undefined;
      // Best effort: a decision not recorded only means a retransmission elsewhere is decided afresh.
      shared.record(key, decision).catch(() => undefined);
    });
  }
  return next;
}
