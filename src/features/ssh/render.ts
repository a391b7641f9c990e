/** SSH lines as AW+ orders them (awplus-spec.md §4.6 [FOUND S12]: `ssh server allow-users manager`, `service ssh`). */
import { SSH_DEFAULT_PORT, type RunningConfig } from '../../config/model.ts';

export function render(cfg: Readonly<RunningConfig>): string[][] {
  const lines = cfg.ssh.allowUsers.map((u) => `ssh server allow-users ${u}`);
  if (cfg.ssh.port !== SSH_DEFAULT_PORT) lines.push(`ssh server port ${cfg.ssh.port}`);
  if (cfg.ssh.enabled) lines.push('service ssh');
  return [lines];
}
