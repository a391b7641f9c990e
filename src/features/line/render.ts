/** `line con 0` and `line vty` blocks, only when their timeout differs from the default. */
import { EXEC_TIMEOUT_DEFAULT, type RunningConfig } from '../../config/model.ts';

const timeout = (s: number) => ` exec-timeout ${Math.floor(s / 60)}${s % 60 ? ` ${s % 60}` : ''}`;

export function render(cfg: Readonly<RunningConfig>): string[][] {
  const l = cfg.lines;
  const blocks: string[][] = [];
  if (l.conTimeout !== EXEC_TIMEOUT_DEFAULT) blocks.push(['line con 0', timeout(l.conTimeout)]);
  if (l.vtyTimeout !== EXEC_TIMEOUT_DEFAULT) blocks.push([`line vty ${l.vtyFirst}${l.vtyLast !== l.vtyFirst ? ` ${l.vtyLast}` : ''}`, timeout(l.vtyTimeout)]);
  return blocks;
}
