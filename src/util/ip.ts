/**
 * IP addresses as the CLI takes them: IPv4 dotted quads and IPv6 in RFC 5952 canonical form (lower
 * case, longest run of zero groups compressed), so a NAS configured as `2001:DB8::0:1` matches the
 * `2001:db8::1` a socket reports.
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * The canonical text of an IPv4 or IPv6 address; undefined when `text` is neither. An IPv4-mapped
 * address from a dual-stack socket (`::ffff:10.0.0.1`) is the IPv4 address it carries.
 */
export function canonicalIp(text: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) return canonicalIp(mapped[1]!);
  if (isIPv4(text)) return /(^|\.)0\d/.test(text) ? undefined : text;
  if (!isIPv6(text) || text.includes('%')) return undefined;
  // Expand to eight groups (an embedded IPv4 tail becomes two groups), then compress (RFC 5952 §4).
  let t = text.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    t = t.slice(0, v4.index) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = t.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const g = groups.map((x) => parseInt(x, 16).toString(16));
  // The longest run of two or more zero groups, the first one on a tie (RFC 5952 §4.2.3).
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j > i ? j : i + 1;
  }
  if (best.at < 0) return g.join(':');
  return `${g.slice(0, best.at).join(':')}::${g.slice(best.at + best.len).join(':')}`;
}

export const isV6 = (address: string): boolean => address.includes(':');
