/**
 * `aaa authentication openvpn default group …` (SPEC §4): where 2FA logins check the first factor;
 * `aaa authentication 2fa-registration default group …` (SPEC §8): where the self-registration page does.
 */
import { msg } from '../../cli/messages.ts';
import { arg } from '../../session/context.ts';
import type { Ctx, Handlers } from '../appliance.ts';

/**
 * `group radius`, `group ldap`, or a server group that exists: `group NAME` is a RADIUS or an LDAP
 * server group (their names are one namespace, so it is never both).
 */
function groupArg(ctx: Ctx): string {
  const group = ctx.args['radius'] ? 'radius' : ctx.args['ldap'] ? 'ldap' : arg.str(ctx, 'group');
  const cfg = ctx.app.config.current;
  if (group !== 'radius' && group !== 'ldap' && !cfg.radius.groups.has(group) && !cfg.ldap.groups.has(group)) ctx.error(msg.noSuchServerGroup(group));
  return group;
}

export const handlers = {
  'aaa.openvpn': (ctx) => {
    if (ctx.no) return ctx.app.config.update((c) => void (c.aaa.openvpn = undefined));
    const group = groupArg(ctx);
    ctx.app.config.update((c) => {
      c.aaa.openvpn = { group, twofa: ctx.args['2fa'] === true, inPassword: ctx.args['2fa-in-password'] === true };
    });
  },
  'aaa.registration': (ctx) => {
    const group = ctx.no ? undefined : groupArg(ctx);
    ctx.app.config.update((c) => void (c.aaa.registration = group === undefined ? undefined : { group }));
  },
} satisfies Handlers;
