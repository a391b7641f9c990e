/**
 * The repeatable `ADDR [port N]` lines of the running config (`ntp server`, `log host`): the
 * protocol's own port is kept as "none", so `ntp server 192.0.2.1` and `ntp server 192.0.2.1 port 123`
 * are one entry; entering one twice changes nothing; `no` of one that is not there is an error that
 * names the ports its address has.
 */
import type { RunningConfig, UdpPeerConfig } from '../config/model.ts';
import { arg } from '../session/context.ts';
import type { Ctx } from './appliance.ts';

/** `ADDR` or `ADDR port N` as the config and the messages spell it. */
export const udpPeerText = (address: string, port: number | undefined, defaultPort: number) =>
  port === undefined || port === defaultPort ? address : `${address} port ${port}`;

/** Adds (or with `no`, removes) the entry the command names in the list `key` of the running config. */
export function editUdpPeers(ctx: Ctx, key: 'ntpServers' | 'logHosts', defaultPort: number, missing: (text: string, configured: string) => string): void {
  const address = arg.str(ctx, 'address');
  const given = arg.opt<number>(ctx, 'port');
  const port = given === defaultPort ? undefined : given;
  const same = (p: UdpPeerConfig) => p.address === address && p.port === port;
  const present = ctx.app.config.current[key].some(same);
  if (ctx.no && !present) {
    // The port is part of the entry; an administrator who gave none is told which ports the address has.
    const sameAddress = ctx.app.config.current[key].filter((p) => p.address === address).map((p) => udpPeerText(p.address, p.port, defaultPort));
    ctx.error(missing(udpPeerText(address, port, defaultPort), sameAddress.join(', ')));
  }
  if (!ctx.no && present) return;
  ctx.app.config.update((c: RunningConfig) => {
    c[key] = ctx.no ? c[key].filter((p) => !same(p)) : [...c[key], { address, port }];
  });
}
