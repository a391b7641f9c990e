/**
 * RFC 5080 §2.2.2: a retransmission (same source, Identifier and Request Authenticator) gets the
 * cached reply byte for byte, never a second evaluation (single use would reject it); one that
 * arrives while the first is still being decided is dropped.
 */
import { DuplicateCache } from '../dedupe.ts';
import { drop, need, next, type Step } from '../step.ts';
import { sharedDuplicates } from './shared-duplicates.ts';

export const duplicates: Step = (req, env) => {
  const p = need(req.packet, 'packet');
  const key = DuplicateCache.key(req.from.address, req.from.port, p.identifier, p.authenticator);
  const seen = env.duplicates.begin(key, env.now());
  if (seen.kind === 'in-progress') return drop('in-progress');
  if (seen.kind === 'done') {
    if (!seen.reply) return drop('duplicate-of-dropped');
    env.stats.duplicates++;
    return { kind: 'reply', reply: seen.reply };
  }
  env.stats.requests++;
  req.onAnswer.push((reply) => env.duplicates.finish(key, reply, env.now()));
  // Several appliances on one shared store: another one may have seen this request (SPEC §16).
  const shared = env.sharedDecisions?.();
  return shared ? sharedDuplicates(req, env, shared) : next;
};
