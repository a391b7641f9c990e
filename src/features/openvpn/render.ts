/**
 * `interface tunnelN` blocks, in interface order. Within a block the tunnel openvpn settings come before
 * `tunnel mode openvpn` (as AW+ lists `tunnel mode` after a tunnel's other settings), the address and
 * `shutdown` after it: booting the block gives the tunnel its final port before it becomes an OpenVPN
 * server that holds one, so the port checks never see a half-configured tunnel. Defaults are omitted.
 */
import { TUNNEL_DEFAULTS, type RunningConfig } from '../../config/model.ts';
import { sortedTunnels } from './settings.ts';

export function render(cfg: Readonly<RunningConfig>): string[][] {
  return sortedTunnels(cfg).map((t) => {
    const lines = [`interface ${t.name}`];
    if (t.port !== TUNNEL_DEFAULTS.port) lines.push(` tunnel openvpn port ${t.port}`);
    if (t.protocol !== TUNNEL_DEFAULTS.protocol) lines.push(` tunnel openvpn protocol ${t.protocol}`);
    if (t.remote !== undefined) lines.push(` tunnel openvpn remote ${t.remote}`);
    for (const r of t.routes) lines.push(` tunnel openvpn push route ${r}`);
    if (t.mode !== undefined) lines.push(` tunnel mode openvpn ${t.mode}`);
    if (t.address !== undefined) lines.push(` ip address ${t.address}`);
    if (t.shutdown) lines.push(' shutdown');
    return lines;
  });
}
