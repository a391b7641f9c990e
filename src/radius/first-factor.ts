/**
 * The first factor from RADIUS hosts (SPEC §6, `aaa authentication openvpn default group radius|NAME`):
 * the configured hosts in order; a host that is this appliance's own local server is answered from
 * the local user table directly (no UDP round trip to ourselves). Without `aaa authentication
 * openvpn`, the local user table alone.
 */
import type { FirstFactorResult, FirstFactorSource } from '../auth/types.ts';
import type { RadiusSettings, UpstreamHost } from './types.ts';
import type { UpstreamClient } from './upstream-client.ts';

export class RadiusHostsFirstFactor implements FirstFactorSource {
  constructor(
    private readonly settings: () => RadiusSettings,
    private readonly upstream: UpstreamClient,
    private readonly local: FirstFactorSource,
  ) {}

  async check(user: string, password: Buffer): Promise<FirstFactorResult> {
    const s = this.settings();
    if (s.firstFactor.kind === 'local') return this.local.check(user, password);
    const hosts = s.firstFactor.hosts;
    const self = hosts.indexOf('local');
    const before = (self < 0 ? hosts : hosts.slice(0, self)) as UpstreamHost[];
    if (before.length > 0) {
      const answer = await this.upstream.authenticate(before, user, password, s.upstream);
      if (answer !== 'timeout' || self < 0) return { answer };
    }
    return this.local.check(user, password);
  }
}
