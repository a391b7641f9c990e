/**
 * The OpenVPN server's facade for the CLI wiring (SPEC §15, DESIGN src/openvpn): tunnel settings
 * and their checks, the supervisor that runs the children, and the types `show` commands format.
 */
export { TUNNEL_DEFAULTS, tunnelNumber, tunnelSettings, type TunnelMode, type TunnelProtocol, type TunnelSettings } from './settings.ts';
export { checkPortFree, checkTunnel, checkTunnels, notRunning, type ReservedPort } from './validate.ts';
export { planAddresses, type AddressPlan } from './addressing.ts';
export { OpenVpnSupervisor, type Connection, type SupervisorOptions, type TunnelState, type TunnelStatus } from './supervisor.ts';
export type { LoginFunction, LoginSettings } from './auth-bridge.ts';
export { OpenVpn, type OpenVpnHostOptions, type OpenVpnOptions } from './openvpn.ts';
