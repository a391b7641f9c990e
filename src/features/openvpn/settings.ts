/**
 * The OpenVPN server's view of the running config (VyOS get_config): the tunnels the supervisor
 * runs, the ports other services of the appliance hold, and how a tunnel's logins are judged.
 */
import type { FirstFactorSource } from '../../auth/types.ts';
import type { RunningConfig, TunnelConfig } from '../../config/model.ts';
import { tunnelNumber, type LoginSettings, type ReservedPort, type TunnelSettings } from '../../openvpn/index.ts';

/** A tunnel interface as the OpenVPN engine reads it; a tunnel without a mode is not an OpenVPN server. */
export function toTunnelSettings(t: Readonly<TunnelConfig>): TunnelSettings | undefined {
  if (t.mode === undefined) return undefined;
  return {
    name: t.name,
    mode: t.mode,
    port: t.port,
    protocol: t.protocol,
    ...(t.address === undefined ? {} : { address: t.address }),
    routes: [...t.routes],
    shutdown: t.shutdown,
  };
}

/** Tunnel interfaces in interface order (tunnel2 before tunnel10, as AW+ lists interfaces). */
export function sortedTunnels(cfg: Readonly<RunningConfig>): TunnelConfig[] {
  return [...cfg.interfaces.values()].sort((a, b) => (tunnelNumber(a.name) ?? 0) - (tunnelNumber(b.name) ?? 0));
}

/** The OpenVPN tunnels the supervisor runs. */
export function openvpnTunnels(cfg: Readonly<RunningConfig>): TunnelSettings[] {
  return sortedTunnels(cfg).flatMap((t) => toTunnelSettings(t) ?? []);
}

/**
 * Every tunnel interface as the overlap and port checks see it. A tunnel with a mode holds its port
 * even when shut down, so `no shutdown` never collides and a saved config boots whatever the order
 * of its tunnels; one without a mode holds no port yet (its block sets the port before the mode)
 * but owns its subnet.
 */
export function tunnelsForChecks(interfaces: Iterable<Readonly<TunnelConfig>>): TunnelSettings[] {
  return [...interfaces].map((t) => ({ ...toTunnelSettings({ ...t, mode: t.mode ?? 'tun' })!, shutdown: t.mode === undefined }));
}

/** Ports the appliance's own listeners hold while their service is on: a tunnel may not take them. */
export function reservedPorts(cfg: Readonly<RunningConfig>): ReservedPort[] {
  const ports: ReservedPort[] = [];
  if (cfg.radius.local.enabled) ports.push({ protocol: 'udp', port: cfg.radius.local.authPort, owner: 'the local RADIUS server (server auth-port)' });
  if (cfg.radius.local.enabled && cfg.radius.local.acctPort !== undefined) ports.push({ protocol: 'udp', port: cfg.radius.local.acctPort, owner: 'the local RADIUS server (server acct-port)' });
  if (cfg.ssh.enabled) ports.push({ protocol: 'tcp', port: cfg.ssh.port, owner: 'the SSH server (ssh server port)' });
  return ports;
}

/**
 * How logins to the embedded server are judged: by `aaa authentication openvpn default group …`
 * (AW+ 2FA manual, 基本設定: `aaa authentication openvpn default group radius 2fa 2fa-in-password`).
 * With the line, its `2fa` keyword asks for the second factor and `2fa-in-password` lets the code
 * follow the password; without it, the second factor is asked and the first factor is the local
 * users (the same source the line's absence means on the RADIUS path).
 */
export function openvpnLogin(cfg: Readonly<RunningConfig>, firstFactor: FirstFactorSource): LoginSettings {
  const aaa = cfg.aaa.openvpn;
  return { mode: aaa && !aaa.twofa ? 'off' : 'on', codeInPassword: aaa?.inPassword ?? false, firstFactor };
}
