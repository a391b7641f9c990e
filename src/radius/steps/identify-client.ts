/** RFC 2865 §3: a request from an address that is no configured NAS is silently discarded. */
import { drop, next, type Step } from '../step.ts';

export const identifyClient: Step = (req, env) => {
  const nas = env.settings().local.nas.find((n) => n.address === req.from.address);
  if (!nas) return drop('unknown-client');
  req.nas = nas;
  req.secret = Buffer.from(nas.key, 'utf8');
  return next;
};
