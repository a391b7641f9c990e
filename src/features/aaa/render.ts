/** `aaa authentication openvpn …` and `… 2fa-registration …` (awplus-spec.md §4.6: aaa lines after the services). */
import type { RunningConfig } from '../../config/model.ts';
import { cliWord } from '../format.ts';

export function render(cfg: Readonly<RunningConfig>): string[][] {
  const o = cfg.aaa.openvpn;
  const lines = o ? [`aaa authentication openvpn default group ${cliWord(o.group)}${o.twofa ? ' 2fa' : ''}${o.inPassword ? ' 2fa-in-password' : ''}`] : [];
  if (cfg.aaa.registration) lines.push(`aaa authentication 2fa-registration default group ${cliWord(cfg.aaa.registration.group)}`);
  return [lines];
}
