/** `hostname` block of the running config; the default `awplus` is omitted (SPEC §3). */
import { DEFAULT_HOSTNAME, type RunningConfig } from '../../config/model.ts';

export function render(cfg: Readonly<RunningConfig>): string[][] {
  return cfg.hostname === DEFAULT_HOSTNAME ? [] : [[`hostname ${cfg.hostname}`]];
}
