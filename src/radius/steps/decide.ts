/**
 * The login decision (auth/login.ts) for this request: the NAS entry says the mode (`2fa`, `2fa only`
 * or neither) and, with it, where the first factor is checked; the State attribute answers a challenge.
 */
import { Attr, attr } from '../packet.ts';
import { need, next, type Step } from '../step.ts';

export const decide: Step = async (req, env) => {
  const p = need(req.packet, 'packet');
  const nas = need(req.nas, 'nas');
  const user = attr(p, Attr.UserName)?.toString('utf8') ?? '';
  const decision = await env.login({
    user,
    password: need(req.password, 'password'),
    challenge: attr(p, Attr.State),
    client: nas.address,
    mode: nas.twofa,
    codeInPassword: env.settings().codeInPassword,
    firstFactor: nas.twofa === 'off' ? env.localUsers : env.openvpnFirstFactor,
  });
  req.decision = decision;
  if (decision.kind === 'accept') env.stats.accepts++;
  else if (decision.kind === 'reject') env.stats.rejects++;
  else env.stats.challenges++;
  env.stats.reason(decision.reason);
  env.log.info('radius-auth', { user, client: req.from.address, result: decision.kind, reason: decision.reason });
  return next;
};
