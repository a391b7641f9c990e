/** `show radius` and `show radius statistics` (layout [OURS], AW+-style tables). */
import type { RunningConfig } from '../../config/model.ts';
import type { HostCounters } from '../../radius/upstream-client.ts';

export function formatRadius(cfg: Readonly<RunningConfig>, local: { listening: boolean; port: number | undefined; error: string | undefined }): string[] {
  const r = cfg.radius;
  const lines = [
    'RADIUS Global Configuration',
    `  Timeout    : ${r.timeout} seconds`,
    `  Retransmit : ${r.retransmit}`,
    `  Deadtime   : ${r.deadtime} minutes`,
    '',
    'Server Host/IP Address                    Auth Port  Groups',
    '-'.repeat(72),
  ];
  for (const h of r.hosts) {
    const groups = [...r.groups].filter(([, s]) => s.some((x) => x.address === h.address && x.authPort === h.authPort)).map(([n]) => n);
    lines.push(`${h.address.padEnd(42)}${String(h.authPort).padEnd(11)}${groups.join(', ') || '-'}`);
  }
  const openvpn = cfg.aaa.openvpn;
  lines.push(
    '',
    `OpenVPN first factor : ${openvpn ? `group ${openvpn.group}${openvpn.twofa ? ' 2fa' : ''}${openvpn.inPassword ? ' 2fa-in-password' : ''}` : 'local RADIUS server users (no aaa authentication openvpn)'}`,
    `Local RADIUS server  : ${r.local.enabled ? (local.listening ? `listening on UDP ${local.port}` : `not listening (${local.error ?? 'starting'})`) : 'disabled'}`,
  );
  return lines;
}

export function formatRadiusStatistics(counters: ReadonlyMap<string, HostCounters>): string[] {
  const lines = ['Server                  Requests   Accepts   Rejects  Timeouts  Bad replies', '-'.repeat(76)];
  for (const [server, c] of counters) {
    lines.push(
      `${server.padEnd(22)}${[c.requests, c.accepts, c.rejects, c.timeouts, c.badReplies].map((n, i) => String(n).padStart(i === 0 ? 10 : i === 4 ? 13 : 10)).join('')}`,
    );
  }
  if (counters.size === 0) lines.push('(no requests sent to upstream servers)');
  return lines;
}
