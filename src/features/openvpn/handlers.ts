/**
 * The embedded OpenVPN server (SPEC §15): `interface tunnelN` → `(config-if)#`, the tunnel's
 * settings, and the EXEC commands that show and clear its clients. Every change is checked against
 * all tunnels and the appliance's own listeners before anything is changed (SPEC §18: nothing
 * half-applied), and the server follows it at once without a restart of the appliance.
 */
import { msg } from '../../cli/messages.ts';
import { TUNNEL_DEFAULTS, type TunnelConfig } from '../../config/model.ts';
import { checkPortFree, checkTunnels, notRunning } from '../../openvpn/index.ts';
import { arg } from '../../session/context.ts';
import type { Ctx, Handlers } from '../appliance.ts';
import { zoneOf } from '../time/zone.ts';
import { reservedPorts, toTunnelSettings, tunnelsForChecks } from './settings.ts';
import { formatConnections, formatInterface } from './show.ts';

function newTunnel(name: string): TunnelConfig {
  return { name, mode: undefined, port: TUNNEL_DEFAULTS.port, protocol: TUNNEL_DEFAULTS.protocol, address: undefined, routes: [], shutdown: false, remote: undefined };
}

/** The tunnel `(config-if)#` configures. */
const selected = (ctx: Ctx) => ctx.session.modeContext as string;

/**
 * Problems `after` would bring that the config does not have already. Only new ones refuse the
 * change: a conflict that arose elsewhere (a service moved onto a tunnel's port) must not block
 * every later edit of an unrelated tunnel.
 */
function newProblems(ctx: Ctx, after: TunnelConfig): string[] {
  const cfg = ctx.app.config.current;
  const reserved = reservedPorts(cfg);
  const others = [...cfg.interfaces.values()].filter((t) => t.name !== after.name);
  const before = cfg.interfaces.get(after.name);
  const known = new Set(checkTunnels(tunnelsForChecks(before ? [...others, before] : others), reserved));
  return checkTunnels(tunnelsForChecks([...others, after]), reserved).filter((p) => !known.has(p));
}

/**
 * Whether another program on this host holds the port a tunnel is about to listen on. Not while a
 * startup config is applied: the port may be free by the time the server starts, and a refused
 * line would drop the setting from the next `write memory`; the server's own failure then shows in
 * `show interface`.
 */
async function hostPortProblem(ctx: Ctx, after: TunnelConfig): Promise<string | undefined> {
  const s = toTunnelSettings(after);
  if (!s || notRunning(s) || ctx.session.source === 'file') return undefined;
  // A port one of our own servers holds (the same tunnel, before a restart) is not "in use".
  const ours = ctx.app.openvpn.status().some((st) => st.pid !== undefined && st.settings.protocol === s.protocol && st.settings.port === s.port);
  if (ours) return undefined;
  const why = await checkPortFree(s.protocol, s.port);
  return why && `${after.name}: ${why}`;
}

/** Makes the running servers follow the config; warns when `name` should run but does not. */
async function applyOpenvpn(ctx: Ctx, name?: string): Promise<void> {
  const openvpn = ctx.app.openvpn;
  if (openvpn.holding()) return; // a startup config: the appliance starts the servers once it is applied
  const refused = await openvpn.apply();
  if (refused) ctx.out.line(msg.tunnelNotApplied(refused));
  if (name === undefined) return;
  const t = ctx.app.config.current.interfaces.get(name);
  const s = t && toTunnelSettings(t);
  if (!s || notRunning(s)) return;
  const st = openvpn.status().find((x) => x.name === name);
  if (st && st.state !== 'up') ctx.out.line(msg.tunnelNotRunning(name, st.reason ?? st.state));
}

/** Changes the selected tunnel as `edit` says, if the result passes every check. */
async function change(ctx: Ctx, edit: (t: TunnelConfig) => void): Promise<void> {
  const name = selected(ctx);
  const before = ctx.app.config.current.interfaces.get(name) ?? newTunnel(name);
  const after: TunnelConfig = { ...before, routes: [...before.routes] };
  edit(after);
  const problem = newProblems(ctx, after)[0] ?? (await hostPortProblem(ctx, after));
  if (problem) ctx.error(msg.tunnelInvalid(problem));
  ctx.app.config.update((c) => void c.interfaces.set(name, after));
  await applyOpenvpn(ctx, name);
}

/** A configured tunnel interface, or the command is refused. */
function configured(ctx: Ctx, name: string): TunnelConfig {
  const t = ctx.app.config.current.interfaces.get(name);
  if (!t) ctx.error(msg.interfaceNotFound(name));
  return t;
}

export const handlers = {
  'openvpn.interface': async (ctx) => {
    const name = arg.str(ctx, 'name');
    if (ctx.no) {
      configured(ctx, name);
      ctx.app.config.update((c) => void c.interfaces.delete(name));
      await applyOpenvpn(ctx);
      return;
    }
    if (!ctx.app.config.current.interfaces.has(name)) ctx.app.config.update((c) => void c.interfaces.set(name, newTunnel(name)));
    ctx.session.enter('interface', name);
  },
  'openvpn.mode': (ctx) => change(ctx, (t) => void (t.mode = ctx.no ? undefined : ctx.args['tap'] ? 'tap' : 'tun')),
  'openvpn.port': (ctx) => change(ctx, (t) => void (t.port = ctx.no ? TUNNEL_DEFAULTS.port : arg.num(ctx, 'port'))),
  'openvpn.protocol': (ctx) => change(ctx, (t) => void (t.protocol = ctx.no ? TUNNEL_DEFAULTS.protocol : ctx.args['tcp'] ? 'tcp' : 'udp')),
  'openvpn.address': (ctx) => change(ctx, (t) => void (t.address = ctx.no ? undefined : arg.str(ctx, 'prefix'))),
  'openvpn.route': (ctx) => {
    const route = arg.str(ctx, 'prefix');
    const name = selected(ctx);
    if (ctx.no && !ctx.app.config.current.interfaces.get(name)?.routes.includes(route)) ctx.error(msg.tunnelNoSuchRoute(name, route));
    return change(ctx, (t) => {
      if (ctx.no) t.routes = t.routes.filter((r) => r !== route);
      else if (!t.routes.includes(route)) t.routes.push(route);
    });
  },
  // Only the client profile names it: nothing to restart, but it goes through the same path.
  'openvpn.remote': (ctx) => change(ctx, (t) => void (t.remote = ctx.no ? undefined : arg.str(ctx, 'host'))),
  'openvpn.shutdown': (ctx) => change(ctx, (t) => void (t.shutdown = !ctx.no)),

  'openvpn.show-interface': async (ctx) => {
    const name = arg.str(ctx, 'name');
    const t = configured(ctx, name);
    const st = ctx.app.openvpn.status().find((s) => s.name === name && t.mode !== undefined);
    const clients = st?.state === 'up' ? (await ctx.app.openvpn.connections(name)).length : 0;
    ctx.out.lines(formatInterface(t, st, clients, ctx.app.clock.now()));
  },
  'openvpn.show-connections': async (ctx) => {
    const list = await ctx.app.openvpn.connections();
    if (!list.length) return ctx.out.line(msg.openvpnNoConnections);
    // OpenVPN stamps connections with the host's clock; show them on the appliance's (clock set).
    ctx.out.lines(formatConnections(list, ctx.app.clock.offset, ctx.app.clock.now(), ctx.args['detail'] === true, zoneOf(ctx.app.config.current)));
  },
  'openvpn.show-client-config': async (ctx) => {
    const name = arg.str(ctx, 'name');
    const t = configured(ctx, name);
    if (t.mode === undefined) ctx.error(msg.tunnelNotOpenvpn(name));
    const cfg = ctx.app.config.current;
    const comment = [`OpenVPN client profile for ${name} of ${cfg.hostname}`, ...(t.remote === undefined ? [msg.profileRemoteNote(cfg.hostname)] : [])].join('\n');
    const text = await ctx.app.openvpn.clientConfig(name, t.remote ?? cfg.hostname, { comment }).catch((e: Error) => ctx.error(msg.profileFailed(e.message)));
    ctx.out.lines(text.replace(/\n$/, ''));
  },
  'openvpn.clear-connection': async (ctx) => {
    const user = arg.str(ctx, 'user');
    if ((await ctx.app.openvpn.disconnect(user)) === 0) ctx.error(msg.openvpnNoConnection(user));
  },
} satisfies Handlers;
