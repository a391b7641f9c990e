/** `log host` lines, near the top of the config as AW+ shows them (after `hostname`) [INFERRED from AW+ configs]. */
import { SYSLOG_PORT, type RunningConfig } from '../../config/model.ts';

export const hostText = (address: string, port: number | undefined) => (port === undefined || port === SYSLOG_PORT ? address : `${address} port ${port}`);

export function render(cfg: Readonly<RunningConfig>): string[][] {
  return [cfg.logHosts.map((h) => `log host ${hostText(h.address, h.port)}`)];
}
