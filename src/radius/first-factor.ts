/**
 * The first factor from RADIUS hosts (SPEC §6, `aaa authentication openvpn default group radius|NAME`):
 * the configured hosts in order; a host that is this appliance's own local server is answered from
 * the local user table directly (no UDP round trip to ourselves). Without `aaa authentication
 * openvpn`, the local user table alone.
 */
import type { FirstFactorResult, FirstFactorSource } from '../auth/types.ts';
import type { RadiusSettings, UpstreamHost } from './types.ts';
import type { UpstreamClient } from './upstream-client.ts';

/** Nothing can answer: a login fails closed (Access-Reject, first-factor-timeout). */
const NOBODY: FirstFactorSource = { check: async () => ({ answer: 'timeout' }) };

export class RadiusHostsFirstFactor implements FirstFactorSource {
  constructor(
    private readonly settings: () => RadiusSettings,
    private readonly upstream: UpstreamClient,
    private readonly local: FirstFactorSource,
  ) {}

  async check(user: string, password: Buffer): Promise<FirstFactorResult> {
    const s = this.settings();
    if (s.firstFactor.kind === 'local') return this.local.check(user, password);
    // The method names a directory: never answered from RADIUS hosts or local users (MethodFirstFactor
    // routes it to the directory; if this is reached anyway, the login fails closed).
    if (s.firstFactor.kind === 'ldap') return NOBODY.check(user, password);
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

/**
 * The first factor of an `aaa authentication` method list (`openvpn`, `2fa-registration`) as the
 * current config says, chosen at every login: the directory when the method names LDAP (`group ldap`,
 * or an `aaa group server ldap` name), else the RADIUS hosts or local users. One object, so whoever
 * holds it (the `nas … 2fa` path, the OpenVPN server, the registration page) follows configuration
 * changes without being rebuilt.
 */
export class MethodFirstFactor implements FirstFactorSource {
  constructor(
    private readonly settings: () => RadiusSettings,
    private readonly radius: FirstFactorSource,
    /** The LDAP source; absent where the appliance was built without one (then LDAP logins fail closed). */
    private readonly directory: FirstFactorSource | undefined,
  ) {}

  private current(): FirstFactorSource {
    return this.settings().firstFactor.kind === 'ldap' ? (this.directory ?? NOBODY) : this.radius;
  }

  check(user: string, password: Buffer): Promise<FirstFactorResult> {
    return this.current().check(user, password);
  }

  mayGiveEmail(): boolean {
    return this.current().mayGiveEmail?.() ?? false;
  }
}
