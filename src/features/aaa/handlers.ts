/** `aaa authentication openvpn default group …` (SPEC §4): where 2FA logins check the first factor. */
import { msg } from '../../cli/messages.ts';
import { arg } from '../../session/context.ts';
import type { Handlers } from '../appliance.ts';

export const handlers = {
  'aaa.openvpn': (ctx) => {
    if (ctx.no) return ctx.app.config.update((c) => void (c.aaa.openvpn = undefined));
    // `group NAME` is a RADIUS or an LDAP server group (their names are one namespace, so it is never both).
    const group = ctx.args['radius'] ? 'radius' : ctx.args['ldap'] ? 'ldap' : arg.str(ctx, 'group');
    const cfg = ctx.app.config.current;
    if (group !== 'radius' && group !== 'ldap' && !cfg.radius.groups.has(group) && !cfg.ldap.groups.has(group)) ctx.error(msg.noSuchServerGroup(group));
    ctx.app.config.update((c) => {
      c.aaa.openvpn = { group, twofa: ctx.args['2fa'] === true, inPassword: ctx.args['2fa-in-password'] === true };
    });
  },
} satisfies Handlers;
