/** RFC 2865 §5.2: the User-Password un-hidden with the shared secret; a request without a usable one is dropped. */
import { unhidePassword } from '../crypto.ts';
import { Attr, attr } from '../packet.ts';
import { drop, need, next, type Step } from '../step.ts';

export const userPassword: Step = (req) => {
  const p = need(req.packet, 'packet');
  const hidden = attr(p, Attr.UserPassword);
  const password = hidden && unhidePassword(hidden, need(req.secret, 'secret'), p.authenticator);
  if (!password) return drop('bad-password-attribute');
  req.password = password;
  return next;
};
