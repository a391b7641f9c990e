/** `username` and `enable password` lines (awplus-spec.md §4.6-§4.7 [FOUND S12]); privilege 1 omitted. */
import type { RunningConfig } from '../../config/model.ts';

export function render(cfg: Readonly<RunningConfig>): string[][] {
  const users = [...cfg.users.values()].map(
    (u) => `username ${u.name}${u.privilege === 1 ? '' : ` privilege ${u.privilege}`} password 8 ${u.hash}`,
  );
  const enable = cfg.enablePassword ? [`enable password 8 ${cfg.enablePassword}`] : [];
  return [users, enable];
}
