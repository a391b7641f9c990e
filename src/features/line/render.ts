/** The `exec-timeout` line; the default is omitted. */
import { EXEC_TIMEOUT_DEFAULT, type RunningConfig } from '../../config/model.ts';

export function render(cfg: Readonly<RunningConfig>): string[][] {
  return cfg.execTimeout === EXEC_TIMEOUT_DEFAULT ? [] : [[`exec-timeout ${cfg.execTimeout}`]];
}
