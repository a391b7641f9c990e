/**
 * IPv4 prefix arithmetic for tunnel addresses and pushed routes (`A.B.C.D/M`). Kept inside the
 * OpenVPN area because nothing else needs it yet; addresses are unsigned 32-bit numbers.
 */

/** An address with its prefix length, as written in `ip address A.B.C.D/M`. */
export interface Prefix {
  /** The address as written (host bits kept). */
  readonly address: number;
  readonly length: number;
}

/** `A.B.C.D` → number, or undefined (no leading zeros, each octet 0–255). */
export function parseAddress(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/** `A.B.C.D/M` → prefix, or undefined. */
export function parsePrefix(text: string): Prefix | undefined {
  const m = /^([0-9.]+)\/(0|[1-9][0-9]?)$/.exec(text);
  if (!m) return undefined;
  const address = parseAddress(m[1]!);
  const length = Number(m[2]);
  if (address === undefined || length > 32) return undefined;
  return { address, length };
}

export function formatAddress(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** The netmask of a prefix length as a number (`/24` → 255.255.255.0). */
export function maskOf(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

export function network(p: Prefix): number {
  return (p.address & maskOf(p.length)) >>> 0;
}

export function broadcast(p: Prefix): number {
  return (network(p) | (~maskOf(p.length) >>> 0)) >>> 0;
}

/** Whether two prefixes share at least one address (one contains the other, for CIDR blocks). */
export function overlaps(a: Prefix, b: Prefix): boolean {
  return network(a) <= broadcast(b) && network(b) <= broadcast(a);
}

/** `10.0.0.0 255.255.255.0`: the "network netmask" pair OpenVPN options take. */
export function networkAndMask(p: Prefix): string {
  return `${formatAddress(network(p))} ${formatAddress(maskOf(p.length))}`;
}
