/** `log host` lines, near the top of the config as AW+ shows them (after `hostname`) [INFERRED from AW+ configs]. */
import { SYSLOG_PORT, type RunningConfig } from '../../config/model.ts';
import { udpPeerText } from '../udp-peers.ts';

export function render(cfg: Readonly<RunningConfig>): string[][] {
  return [cfg.logHosts.map((h) => `log host ${udpPeerText(h.address, h.port, SYSLOG_PORT)}`)];
}
