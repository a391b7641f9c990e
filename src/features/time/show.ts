/**
 * `show ntp status` and `show ntp associations`. The first line is AW+'s (ntpd's) wording, `Clock is
 * synchronized, stratum N, reference is ADDR` [INFERRED from AW+ and IOS output]; the rest is laid out
 * as our other `show` commands are. Times are shown in the configured time zone.
 */
import { NTP_PORT } from '../../config/model.ts';
import { reachText, type NtpAssociation, type NtpStatus } from '../../time/ntp-client.ts';
import { displayTime, type TimeZone } from '../../time/timezone.ts';
import { fields } from '../format.ts';
import { udpPeerText } from '../udp-peers.ts';

/** `10.0.0.1`, or `10.0.0.1 port 1123` off the NTP port: as the config line names the server. */
const peerText = (address: string, port: number | undefined) => udpPeerText(address, port, NTP_PORT);

const ms3 = (ms: number) => `${ms.toFixed(3)} ms`;

/** `12 s ago`, `5 min ago`, `3 h ago`. */
export function ago(now: number, then: number): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export function formatNtpStatus(st: NtpStatus, configured: number, now: number, zone: TimeZone): string[] {
  const head = st.synchronised
    ? `Clock is synchronized, stratum ${st.stratum}, reference is ${peerText(st.server!, st.port)}`
    : 'Clock is unsynchronized, stratum 16, no reference clock';
  const rows: [string, string][] = [['Servers configured', String(configured)]];
  if (st.lastSync === undefined) rows.push(['Last sync', 'Never']);
  else {
    const from = st.synchronised ? '' : ` from ${peerText(st.server!, st.port)}`;
    rows.push(
      ['Last sync', `${displayTime(st.lastSync, zone)} (${ago(now, st.lastSync)})${from}`],
      // The offset measured by that poll (RFC 4330 §5 θ); the clock was stepped by it, so it is now ~0.
      ['Offset at last sync', `${ms3(st.offsetMs!)} (the clock was stepped by it)`],
      ['Round-trip delay', ms3(st.delayMs!)],
    );
    if (st.referenceId) rows.push(['Server reference', `${st.referenceId} (stratum ${st.stratum! - 1})`]);
  }
  rows.push(['Failed polls', st.failedPolls === 0 ? '0' : `${st.failedPolls} in a row`]);
  return [head, ...fields(rows)];
}

/** What a server is doing, in words. */
function state(a: NtpAssociation): string {
  let text: string;
  switch (a.state) {
    case 'new':
      text = 'not asked yet';
      break;
    case 'ok':
      text = 'ok';
      break;
    case 'denied':
      // RFC 4330 §8: after DENY or RSTR the client stops asking that server.
      text = `refused us (kiss code ${a.kissCode ?? '?'}): not asked again`;
      break;
    default:
      text = a.lastError ?? 'no usable answer';
  }
  return a.backoffS > 0 ? `${text}, resting ${a.backoffS} s (kiss code RATE)` : text;
}

/** One line a server: `*` marks the one the clock follows. Reach is octal, newest poll in bit 0 (RFC 5905 §13). */
export function formatAssociations(list: readonly NtpAssociation[], now: number): string[] {
  if (list.length === 0) return ['No NTP server is configured'];
  const header = [' Address', 'Port', 'Ref clock', 'St', 'Reach', 'Last answer', 'Delay', 'Offset', 'State'];
  const rows = list.map((a) => [
    `${a.selected ? '*' : ' '}${a.address}`,
    String(a.port),
    a.referenceId || '-',
    a.stratum === undefined ? '-' : String(a.stratum),
    reachText(a.reach),
    a.lastAnswer === undefined ? 'never' : ago(now, a.lastAnswer),
    a.delayMs === undefined ? '-' : ms3(a.delayMs),
    a.offsetMs === undefined ? '-' : ms3(a.offsetMs),
    state(a),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line), '', '* the server the clock follows; Reach: the last 8 polls in octal (377 = all answered)'];
}
