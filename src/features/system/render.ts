/** System lines of the running config; defaults are omitted (SPEC §3). */
import { DEFAULT_HOSTNAME, type RunningConfig } from '../../config/model.ts';

/** Only the non-default form; AW+ shows the service line at the top (awplus-spec.md §4.6). */
export function renderPasswordEncryption(cfg: Readonly<RunningConfig>): string[][] {
  return cfg.passwordEncryption ? [] : [['no service password-encryption']];
}

/** The `hostname` block; the default `awplus` is omitted. */
export function render(cfg: Readonly<RunningConfig>): string[][] {
  return cfg.hostname === DEFAULT_HOSTNAME ? [] : [[`hostname ${cfg.hostname}`]];
}
