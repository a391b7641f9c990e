/**
 * `clock timezone` and `ntp server` lines. AW+ shows `clock timezone` near the top of the config and
 * `ntp server` lines further down [INFERRED from AW+ configs: `no clock timezone` follows the service
 * lines in the Ansible fixture]; both are plain global lines, so their place does not matter to a boot.
 */
import { NTP_PORT, type RunningConfig } from '../../config/model.ts';
import { timezoneArgs } from '../../time/timezone.ts';
import { udpPeerText } from '../udp-peers.ts';

export function renderTimezone(cfg: Readonly<RunningConfig>): string[][] {
  return cfg.timezone ? [[`clock timezone ${timezoneArgs(cfg.timezone)}`]] : [];
}

export function renderNtp(cfg: Readonly<RunningConfig>): string[][] {
  return [cfg.ntpServers.map((s) => `ntp server ${udpPeerText(s.address, s.port, NTP_PORT)}`)];
}
