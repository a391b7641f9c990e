/**
 * `aaa authentication openvpn default group …` (SPEC §4): where 2FA logins check the first factor;
 * `aaa authentication 2fa-registration default group …` (SPEC §8): where the self-registration page does.
 */
import { msg } from '../../cli/messages.ts';
import { arg } from '../../session/context.ts';
import type { Ctx, Handlers } from '../appliance.ts';

/** `group radius` or a server group that exists; `group ldap` is refused until LDAP servers can be configured. */
function groupArg(ctx: Ctx): string {
  if (ctx.args['ldap']) ctx.error(msg.ldapUnsupported);
  const group = ctx.args['radius'] ? 'radius' : arg.str(ctx, 'group');
  if (group !== 'radius' && !ctx.app.config.current.radius.groups.has(group)) ctx.error(msg.radiusNoSuchGroup(group));
  return group;
}

export const handlers = {
  'aaa.openvpn': (ctx) => {
    if (ctx.no) return ctx.app.config.update((c) => void (c.aaa.openvpn = undefined));
    if (ctx.args['ldap']) ctx.error(msg.ldapUnsupported);
    const group = ctx.args['radius'] ? 'radius' : arg.str(ctx, 'group');
    if (group !== 'radius' && !ctx.app.config.current.radius.groups.has(group)) ctx.error(msg.radiusNoSuchGroup(group));
    ctx.app.config.update((c) => {
      c.aaa.openvpn = { group, twofa: ctx.args['2fa'] === true, inPassword: ctx.args['2fa-in-password'] === true };
    });
  },
  'aaa.registration': (ctx) => {
    const group = ctx.no ? undefined : groupArg(ctx);
    ctx.app.config.update((c) => void (c.aaa.registration = group === undefined ? undefined : { group }));
  },
} satisfies Handlers;
