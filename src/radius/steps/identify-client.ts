/** RFC 2865 §3: a request from an address that is no configured NAS is silently discarded. */
import { drop, next, type Step } from '../step.ts';
import type { NasEntry } from '../types.ts';

/** Each NAS entry's shared secret as bytes, made once per entry (a config change makes new entries). */
const secrets = new WeakMap<NasEntry, Buffer>();

export const identifyClient: Step = (req, env) => {
  const nas = env.settings().local.nas.find((n) => n.address === req.from.address);
  if (!nas) return drop('unknown-client');
  req.nas = nas;
  let secret = secrets.get(nas);
  if (!secret) secrets.set(nas, (secret = Buffer.from(nas.key, 'utf8')));
  req.secret = secret;
  return next;
};
