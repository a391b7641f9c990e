/**
 * The first factor (SPEC §6): the local server's user table, or upstream RADIUS hosts in order; a
 * host that is this appliance's own local server is answered from the user table directly (no UDP
 * round trip to ourselves).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { verifyPassword } from '../util/crypt.ts';
import type { RadiusSettings, UpstreamHost } from './types.ts';
import type { UpstreamAnswer, UpstreamClient } from './upstream-client.ts';

export class FirstFactor {
  /**
   * crypt(3) costs milliseconds per check; a NAS repeats the same passwords all day. After one full
   * verification the pair is remembered as SHA-256(process salt ‖ password), for as long as the hash
   * stays the same, so later checks cost microseconds while nothing reversible is kept.
   */
  private readonly verified = new Map<string, { hash: string; digest: Buffer }>();
  private readonly salt = randomBytes(16);

  constructor(
    private readonly settings: () => RadiusSettings,
    private readonly upstream: UpstreamClient,
  ) {}

  private digest(password: Buffer): Buffer {
    return createHash('sha256').update(this.salt).update(password).digest();
  }

  /** Checks the local server's user table. */
  local(user: string, password: Buffer): 'accept' | 'reject' {
    const hash = this.settings().local.users.get(user);
    if (!hash) return 'reject';
    const known = this.verified.get(user);
    if (known && known.hash === hash && timingSafeEqual(known.digest, this.digest(password))) return 'accept';
    if (!verifyPassword(password.toString('utf8'), hash)) return 'reject';
    this.verified.set(user, { hash, digest: this.digest(password) });
    return 'accept';
  }

  /** The first factor as `aaa authentication openvpn` chose it (local users when unset). */
  async check(user: string, password: Buffer): Promise<UpstreamAnswer> {
    const s = this.settings();
    if (s.firstFactor.kind === 'local') return this.local(user, password);
    const hosts = s.firstFactor.hosts;
    const self = hosts.indexOf('local');
    const before = (self < 0 ? hosts : hosts.slice(0, self)) as UpstreamHost[];
    if (before.length > 0) {
      const answer = await this.upstream.authenticate(before, user, password, s.upstream);
      if (answer !== 'timeout' || self < 0) return answer;
    }
    return this.local(user, password);
  }
}
