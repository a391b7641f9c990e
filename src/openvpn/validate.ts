/**
 * Checks on the tunnels of a candidate running config, so a change that cannot work is refused
 * before anything is applied (SPEC §18: nothing half-applied). Each function returns plain reasons;
 * the CLI layer turns them into AW+ `% ` messages.
 */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { planAddresses } from './addressing.ts';
import { formatAddress, network, overlaps, parsePrefix } from './ipv4.ts';
import { tunnelNumber, type TunnelProtocol, type TunnelSettings } from './settings.ts';

/** A port another service of the appliance listens on (RADIUS, SSH, the web page, …). */
export interface ReservedPort {
  readonly protocol: TunnelProtocol;
  readonly port: number;
  /** Who holds it, for the message: `radius-server local`, `ssh`. */
  readonly owner: string;
}

/** Problems of one tunnel on its own. */
export function checkTunnel(t: TunnelSettings): string[] {
  const problems: string[] = [];
  if (tunnelNumber(t.name) === undefined) problems.push(`${t.name} is not a tunnel interface name (tunnelN)`);
  if (t.mode !== 'tun' && t.mode !== 'tap') problems.push(`${t.name}: tunnel mode must be tun or tap`);
  if (t.protocol !== 'udp' && t.protocol !== 'tcp') problems.push(`${t.name}: protocol must be udp or tcp`);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) problems.push(`${t.name}: port ${t.port} is outside 1–65535`);
  if (t.address !== undefined) {
    const plan = planAddresses(t.address);
    if (typeof plan === 'string') problems.push(`${t.name}: ${plan}`);
  }
  for (const r of t.routes) {
    const p = parsePrefix(r);
    if (!p) problems.push(`${t.name}: route ${r} is not an address with a prefix length (A.B.C.D/M)`);
    // A /0 route would replace the client's default route with one via the tunnel without
    // OpenVPN's `redirect-gateway` safeguards (it keeps a host route to the server); refuse it.
    else if (p.length === 0) problems.push(`${t.name}: route ${r} (a default route) cannot be pushed`);
    // OpenVPN clients reject "route 10.0.0.1 255.255.255.0" as inconsistent (openvpn(8) --route:
    // the network must be the masked address), so insist on the network address.
    else if (network(p) !== p.address) problems.push(`${t.name}: route ${r} has host bits set (did you mean ${formatAddress(network(p))}/${p.length}?)`);
  }
  if (t.renegSeconds !== undefined && (!Number.isInteger(t.renegSeconds) || t.renegSeconds < 0)) {
    problems.push(`${t.name}: reneg seconds must be a whole number >= 0`);
  }
  return problems;
}

/**
 * Problems of the whole set: each tunnel's own, subnets shared by two tunnels (the kernel would
 * have two interfaces on one subnet), and two listeners on one port (one would fail to bind).
 * Only running tunnels (not `shutdown`) compete for ports; every configured address counts.
 */
export function checkTunnels(tunnels: readonly TunnelSettings[], reserved: readonly ReservedPort[] = []): string[] {
  const problems = tunnels.flatMap(checkTunnel);
  const seen = new Set<string>();
  for (const t of tunnels) {
    if (seen.has(t.name)) problems.push(`${t.name} is configured twice`);
    seen.add(t.name);
  }
  for (let i = 0; i < tunnels.length; i++) {
    for (let j = i + 1; j < tunnels.length; j++) {
      const a = tunnels[i]!;
      const b = tunnels[j]!;
      const pa = a.address === undefined ? undefined : parsePrefix(a.address);
      const pb = b.address === undefined ? undefined : parsePrefix(b.address);
      if (pa && pb && overlaps(pa, pb)) problems.push(`${b.name}: subnet ${b.address} overlaps ${a.name} (${a.address})`);
      if (!a.shutdown && !b.shutdown && a.protocol === b.protocol && a.port === b.port) {
        problems.push(`${b.name}: ${b.protocol} port ${b.port} is already used by ${a.name}`);
      }
    }
  }
  for (const t of tunnels) {
    if (t.shutdown) continue;
    for (const r of reserved) {
      if (r.protocol === t.protocol && r.port === t.port) problems.push(`${t.name}: ${t.protocol} port ${t.port} is already used by ${r.owner}`);
    }
  }
  return problems;
}

/** Why a tunnel that passed the checks does not run (a state, not an error), or undefined. */
export function notRunning(t: TunnelSettings): string | undefined {
  if (t.shutdown) return 'administratively down (shutdown)';
  // A routed tunnel (tun, or tap without a bridge: there is no bridge command) needs the server's
  // address to hand out the others.
  if (t.address === undefined) return 'no ip address';
  return undefined;
}

/**
 * Whether something else on the host already listens on `protocol` `port` (another program, or a
 * port the kernel holds): binds it briefly. Resolves to a reason, or undefined when it is free.
 */
export function checkPortFree(protocol: TunnelProtocol, port: number, host = '0.0.0.0'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const busy = (e: NodeJS.ErrnoException) => resolve(`${protocol} port ${port} is in use on this host (${e.code ?? e.message})`);
    if (protocol === 'tcp') {
      const s = createServer();
      s.once('error', busy);
      s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(undefined)));
    } else {
      const s = createSocket('udp4');
      s.once('error', (e) => {
        s.close();
        busy(e);
      });
      s.bind({ port, address: host, exclusive: true }, () => s.close(() => resolve(undefined)));
    }
  });
}
