/** `show log config`: where audit events go besides `show log`, and how that is going. */
import type { UdpPeerConfig } from '../../config/model.ts';
import type { PermanentLogStats } from '../../log/permanent.ts';
import type { SyslogStats } from '../../log/syslog.ts';
import { fields } from '../format.ts';

export function formatLogConfig(hosts: readonly UdpPeerConfig[], syslog: SyslogStats, permanent: PermanentLogStats): string[] {
  const out = ['Log hosts (RFC 5424 syslog over UDP, facility authpriv)'];
  if (hosts.length === 0) out.push('  none configured');
  else {
    const header = ['Address', 'Port', 'Sent', 'Errors'];
    const rows = syslog.hosts.map((h) => [h.address, String(h.port), String(h.sent), String(h.errors)]);
    const widths = header.map((t, i) => Math.max(t.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`;
    out.push(line(header), ...rows.map(line));
  }
  out.push(
    ...fields(
      [
        ['Messages dropped', `${syslog.dropped} (more than the sends a host can have in flight)`],
        ['Fields left out', `${syslog.redacted} (names that look like a secret, code or password)`],
      ],
      '  ',
    ),
    '',
    'Permanent log (flash, show log permanent)',
    ...fields(
      [
        ['Lines written', String(permanent.written)],
        ['Lines waiting', `${permanent.bufferedLines} (${permanent.bufferedBytes} bytes, written within the flush interval)`],
        ['Lines dropped', String(permanent.dropped)],
        ['Flash writes', permanent.failing === undefined ? 'OK' : `failing (${permanent.failing}): lines wait in memory, then are dropped and counted`],
        ['Failed writes', String(permanent.writeErrors)],
      ],
      '  ',
    ),
  );
  return out;
}
