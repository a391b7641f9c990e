/**
 * `show interface tunnelN` and `show openvpn connections [detail]` (layout ours, after AW+
 * `show interface`: "Interface NAME", "Link is UP, administrative state is UP", indented facts).
 * Pure formatters: the handlers pass the config, the server's state and the clock.
 */
import type { TunnelConfig } from '../../config/model.ts';
import { planAddresses, type Connection, type TunnelStatus } from '../../openvpn/index.ts';
import { formatDuration } from '../base/show.ts';
import { fields } from '../format.ts';
import { isUtc, localIso, UTC_ZONE, type TimeZone } from '../../time/timezone.ts';
import { rfcDate } from '../system/show.ts';

/** `2024-03-03 12:00:01` in `zone` (as `show log` shows times, without the milliseconds). */
function stamp(ms: number, zone: TimeZone): string {
  return localIso(ms, zone).slice(0, 19).replace('T', ' ');
}

/** ` JST` after a local time; nothing in UTC, whose texts stay as they were before `clock timezone`. */
const zoneSuffix = (zone: TimeZone) => (isUtc(zone) ? '' : ` ${zone.name}`);

/** `2 days 03:04:05`, as `show system` gives the uptime. */
function span(ms: number): string {
  const days = Math.floor(Math.max(0, ms) / 86_400_000);
  return `${days} days ${formatDuration(ms - days * 86_400_000)}`;
}

/** What the OpenVPN server of a tunnel is doing, in words. */
function serverState(t: Readonly<TunnelConfig>, st: TunnelStatus | undefined): string {
  if (t.mode === undefined) return 'none (no tunnel mode openvpn)';
  if (!st) return 'down (not started)';
  const why = st.reason ? ` (${st.reason})` : '';
  switch (st.state) {
    case 'up':
      return `up, process ${st.pid ?? '?'}, device ${st.device ?? '?'}`;
    case 'starting':
      return `starting, process ${st.pid ?? '?'}`;
    case 'restarting':
      return `restarting${why}`;
    case 'failed':
      return `cannot run${why}`;
    default:
      return t.shutdown ? 'down (shutdown)' : `down${why}`;
  }
}

/** `show interface tunnelN`. `clients`: connected clients (0 when the server is not up). */
export function formatInterface(t: Readonly<TunnelConfig>, st: TunnelStatus | undefined, clients: number, now: number): string[] {
  const up = st?.state === 'up';
  const lines = [`Interface ${t.name}`, `  Link is ${up ? 'UP' : 'DOWN'}, administrative state is ${t.shutdown ? 'DOWN' : 'UP'}`, '  Hardware is Tunnel'];
  lines.push(t.address ? `  IPv4 address ${t.address}` : '  IPv4 address not set');
  const rows: [string, string][] = [];
  if (t.mode !== undefined) {
    rows.push(['Tunnel protocol/transport', `OpenVPN ${t.mode.toUpperCase()}, ${t.protocol.toUpperCase()} port ${t.port}`]);
    const plan = t.address === undefined ? undefined : planAddresses(t.address);
    if (plan && typeof plan !== 'string') rows.push(['Client addresses', `${plan.poolStart} to ${plan.poolEnd} (${plan.poolSize})`]);
    rows.push(['Pushed routes', t.routes.length ? t.routes.join(', ') : '(none)']);
    if (t.remote !== undefined) rows.push(['Client profile remote', t.remote]);
  }
  rows.push(['OpenVPN server', serverState(t, st)]);
  if (st && t.mode !== undefined) {
    rows.push(['Connected clients', String(clients)]);
    rows.push(['Restarts after a failure', String(st.restarts)]);
    if (up && st.upSince !== undefined) rows.push(['Up for', span(now - st.upSince)]);
  }
  lines.push(...fields(rows, '  '));
  // What the server said last, when it is not running as it should (OpenVPN prints no passwords).
  if (st && (st.state === 'restarting' || st.state === 'failed') && st.output.length) {
    lines.push('  Last messages from openvpn:', ...st.output.slice(-3).map((l) => `    ${l}`));
  }
  return lines;
}

/** `show openvpn connections [detail]`; `offset`: appliance clock minus host clock (ms). */
export function formatConnections(list: readonly Connection[], offset: number, now: number, detail: boolean, zone: TimeZone = UTC_ZONE): string[] {
  const sorted = [...list].sort((a, b) => a.tunnel.localeCompare(b.tunnel, 'en', { numeric: true }) || a.user.localeCompare(b.user) || a.clientId - b.clientId);
  if (detail) {
    return sorted.flatMap((c, i) => {
      const since = c.connectedSince + offset;
      return [
        ...(i ? [''] : []),
        `User ${c.user} on ${c.tunnel}`,
        ...fields(
          [
            ['Real address', c.realAddress],
            ['Tunnel address', c.tunnelAddress],
            ['Connected since', `${rfcDate(since, zone)}${zoneSuffix(zone)} (${span(now - since)})`],
            ['Bytes in', String(c.bytesIn)],
            ['Bytes out', String(c.bytesOut)],
            ['Data cipher', c.cipher || '-'],
            ['Client ID', String(c.clientId)],
          ],
          '  ',
        ),
      ];
    });
  }
  const header = ['Interface', 'User', 'Real address', 'Tunnel address', `Connected since${zoneSuffix(zone)}`, 'Bytes in', 'Bytes out'];
  const rows = sorted.map((c) => [c.tunnel, c.user, c.realAddress, c.tunnelAddress, stamp(c.connectedSince + offset, zone), String(c.bytesIn), String(c.bytesOut)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), '-'.repeat(widths.reduce((a, b) => a + b + 2, -2)), ...rows.map(line)];
}
