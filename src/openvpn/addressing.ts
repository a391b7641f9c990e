/**
 * How a tunnel's `ip address A.B.C.D/M` becomes the server's address and the clients' pool.
 *
 * OpenVPN's `server NETWORK MASK` helper always takes the first host for itself (openvpn(8)
 * `--server`), but AW+ lets the operator choose the router's address. So the generated config spells
 * the helper out (`mode server`, `tls-server`, `ifconfig`, `ifconfig-pool`, `push "route-gateway"`),
 * with the configured address for the server and the larger contiguous run of the remaining hosts
 * for the pool (`--ifconfig-pool start-IP end-IP` takes one range).
 */
import { broadcast, formatAddress, maskOf, network, parsePrefix, type Prefix } from './ipv4.ts';

/** Prefix lengths a tunnel subnet may have. /30 leaves one client address; a /15 pool would exceed
 * OpenVPN's limit of 65536 pool entries (IFCONFIG_POOL_MAX in pool.h). */
export const MIN_TUNNEL_PREFIX = 16;
export const MAX_TUNNEL_PREFIX = 30;

export interface AddressPlan {
  readonly prefix: Prefix;
  readonly server: string;
  readonly netmask: string;
  readonly poolStart: string;
  readonly poolEnd: string;
  /** How many clients the pool holds. */
  readonly poolSize: number;
}

/** The plan for `ip address TEXT`, or the reason it cannot be a tunnel address. */
export function planAddresses(text: string): AddressPlan | string {
  const prefix = parsePrefix(text);
  if (!prefix) return `${text} is not an address with a prefix length (A.B.C.D/M)`;
  if (prefix.length < MIN_TUNNEL_PREFIX || prefix.length > MAX_TUNNEL_PREFIX) {
    return `prefix length /${prefix.length} is outside /${MIN_TUNNEL_PREFIX}–/${MAX_TUNNEL_PREFIX} for a tunnel subnet`;
  }
  const first = network(prefix) + 1;
  const last = broadcast(prefix) - 1;
  const a = prefix.address;
  if (a < first || a > last) return `${text} is the network or broadcast address of its subnet, not a host address`;
  // Two candidate runs around the server's own address; take the larger (the upper one on a tie, so
  // the common `.1/24` gives the familiar `.2 – .254`).
  const below = a - first;
  const above = last - a;
  const [start, end] = above >= below ? [a + 1, last] : [first, a - 1];
  return {
    prefix,
    server: formatAddress(a),
    netmask: formatAddress(maskOf(prefix.length)),
    poolStart: formatAddress(start),
    poolEnd: formatAddress(end),
    poolSize: end - start + 1,
  };
}
