/**
 * What `interface tunnelN` holds for an OpenVPN tunnel (SPEC §15; command names there are ours,
 * INFERRED from AT guides). The CLI layer builds these; everything in src/openvpn reads them.
 */

export type TunnelMode = 'tun' | 'tap';
export type TunnelProtocol = 'udp' | 'tcp';

/** One OpenVPN tunnel interface, as the running config says. */
export interface TunnelSettings {
  /** `tunnel0` … (the interface name). */
  readonly name: string;
  /** `tunnel mode openvpn {tun|tap}`: L3 (tun) or L2 (tap, routed: there is no bridge command). */
  readonly mode: TunnelMode;
  /** `tunnel openvpn port <1-65535>` [1194]. */
  readonly port: number;
  /** `tunnel openvpn protocol {udp|tcp}` [udp]. */
  readonly protocol: TunnelProtocol;
  /** `ip address A.B.C.D/M`: the server's own address; clients get the other addresses of the subnet. */
  readonly address?: string;
  /** `tunnel openvpn push route A.B.C.D/M` (repeatable), in the order entered. */
  readonly routes: readonly string[];
  /** `shutdown`: configured but not running. */
  readonly shutdown: boolean;
  /**
   * Hidden knob (no CLI command; tests): the server's `reneg-sec`, seconds between TLS key
   * renegotiations. Undefined = OpenVPN's default (3600).
   */
  readonly renegSeconds?: number;
}

/** Defaults of a freshly created OpenVPN tunnel (SPEC §15 brackets). */
export const TUNNEL_DEFAULTS = { mode: 'tun', port: 1194, protocol: 'udp', routes: [], shutdown: false } as const;

/** `tunnel7` → 7; undefined for anything else. */
export function tunnelNumber(name: string): number | undefined {
  const m = /^tunnel(0|[1-9][0-9]{0,4})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** A new tunnel's settings with the defaults filled in. */
export function tunnelSettings(name: string, overrides: Partial<Omit<TunnelSettings, 'name'>> = {}): TunnelSettings {
  return { name, ...TUNNEL_DEFAULTS, ...overrides };
}
