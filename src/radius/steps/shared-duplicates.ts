/**
 * RFC 5080 §2.2.2 across the appliances of a group (SPEC §16), after the local duplicate cache missed:
 * a NAS that got no answer from one appliance retries on another, which must answer as the first did
 * — had the first accepted, deciding again would reject the code as used. The first appliance to see
 * a request claims it in the shared store and records its decision; another drops the request while
 * it is being decided (the NAS retries) and then answers with that decision, encoded with its own
 * secret and the request's Proxy-State (the reply step). Its own decision it records before its
 * answer leaves (`shareDecision`, between decide and reply).
 */
import { decodeDecision, encodeDecision, sharedKey, type SharedClaim, type SharedDecisions } from '../shared-decisions.ts';
import { drop, need, next, type RadiusRequest, type Step, type StepEnv, type StepResult } from '../step.ts';
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
    const sharedClaim = { table: shared, key, recorded: false };
    req.sharedClaim = sharedClaim;
    // No answer after all (dropped): the claim is given up, so that another appliance may decide it.
    req.onAnswer.push((answer) => {
      if (answer === undefined && !sharedClaim.recorded) shared.record(key, undefined).catch(() => undefined);
    });
  }
  return next;
}

/**
 * The decision of a claimed request, recorded before the answer leaves: a NAS that retries on another
 * appliance after it got (or lost) this answer finds it there, as it finds the used mark.
 */
export const shareDecision: Step = (req) => {
  const claim = req.sharedClaim;
  // Alone (the embedded store): answered at once, no promise on the request path.
  if (claim === undefined) return next;
  return claim.table.record(claim.key, encodeDecision(need(req.decision, 'decision'))).then(
    () => {
      claim.recorded = true;
      return next;
    },
    // Not recorded (the store went away): a retransmission elsewhere is decided afresh; the store
    // logs the outage once.
    () => next,
  );
};
