/** `aaa authentication openvpn …` (awplus-spec.md §4.6: aaa lines after the services). */
import type { RunningConfig } from '../../config/model.ts';

export function render(cfg: Readonly<RunningConfig>): string[][] {
  const o = cfg.aaa.openvpn;
  if (!o) return [];
  return [[`aaa authentication openvpn default group ${o.group}${o.twofa ? ' 2fa' : ''}${o.inPassword ? ' 2fa-in-password' : ''}`]];
}
