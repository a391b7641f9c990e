/**
 * The RADIUS subsystem as the appliance starts it: the local server and its UDP listener, the
 * accounting port's server and listener (`server acct-port`), the client for upstream first-factor
 * hosts, and the two first-factor sources a NAS entry can use (the second follows `aaa authentication
 * openvpn`: RADIUS hosts, local users, or the directory given here).
 */
import type { Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { LocalUsers } from '../auth/local-users.ts';
import type { FirstFactorSource, LoginDecision, LoginRequest } from '../auth/types.ts';
import type { PasswordCheck } from '../util/crypt.ts';
import { isV6 } from '../util/ip.ts';
import { Listener, type ListenerStatus } from '../util/listener.ts';
import type { Log } from '../util/log.ts';
import { MethodFirstFactor, RadiusHostsFirstFactor } from './first-factor.ts';
import { ACCOUNTING_PIPELINE } from './pipeline.ts';
import { RadiusServer } from './server.ts';
import type { SharedDecisions } from './shared-decisions.ts';
import type { RadiusSettings } from './types.ts';
import { udpBinder } from './udp.ts';
import { UpstreamClient } from './upstream-client.ts';

/**
 * The accounting port's duplicate cache, in bytes: an Accounting-Response is 20 octets and the
 * Proxy-States it echoes, smaller than most login replies (whose cache has dedupe.ts DEFAULT_BUDGET, 32 MiB).
 */
const ACCOUNTING_DUPLICATE_BUDGET = 8 * 1024 * 1024;

export interface RadiusOptions {
  readonly settings: () => RadiusSettings;
  readonly login: (r: LoginRequest) => Promise<LoginDecision>;
  /** The first factor when `aaa authentication openvpn` names LDAP (the appliance's directory source). */
  readonly directory?: FirstFactorSource;
  readonly log: Log;
  readonly now: () => number;
  /** The shared store's decision table, while the appliance uses one (SPEC §16). */
  readonly sharedDecisions?: () => SharedDecisions | undefined;
  /** How the local users' crypt(3) hashes are checked (off the event loop). */
  readonly checkPassword: PasswordCheck;
}

export class Radius {
  readonly server: RadiusServer;
  readonly upstream = new UpstreamClient(() => performance.now());
  /** The local server's user table (`user NAME password`). */
  readonly localUsers: LocalUsers;
  /** `aaa authentication openvpn default group radius|ldap|NAME`, or the local users without it. */
  readonly openvpnFirstFactor: FirstFactorSource;
  readonly listener: Listener<Socket>;
  /** Accounting-Requests (RFC 2866) on `server acct-port`, recorded in the audit log. */
  readonly accounting: RadiusServer;
  readonly accountingListener: Listener<Socket>;

  constructor(private readonly options: RadiusOptions) {
    this.localUsers = new LocalUsers(() => options.settings().local.users, options.checkPassword);
    this.openvpnFirstFactor = this.methodFirstFactor(options.settings, options.directory);
    this.server = new RadiusServer(
      { settings: options.settings, login: options.login, now: options.now, localUsers: this.localUsers, openvpnFirstFactor: this.openvpnFirstFactor, sharedDecisions: options.sharedDecisions },
      options.log,
    );
    this.listener = new Listener(udpBinder(this.server, options.log), options.log);
    // No shared decisions: a retransmitted record that reaches another appliance is recorded there too
    // (an accounting record twice is a duplicate line; a login decided twice could spend a code twice).
    this.accounting = new RadiusServer(
      { settings: options.settings, login: options.login, now: options.now, localUsers: this.localUsers, openvpnFirstFactor: this.openvpnFirstFactor },
      options.log,
      { pipeline: ACCOUNTING_PIPELINE, dropEvent: 'radius-accounting-drops', duplicateBudget: ACCOUNTING_DUPLICATE_BUDGET },
    );
    this.accountingListener = new Listener(udpBinder(this.accounting, options.log, 'radius-accounting'), options.log);
  }

  /**
   * The first factor of a method list whose RADIUS view is `settings`: its RADIUS hosts (over this
   * subsystem's upstream client and local users), or `directory` when it names LDAP.
   */
  methodFirstFactor(settings: () => RadiusSettings, directory: FirstFactorSource | undefined): FirstFactorSource {
    return new MethodFirstFactor(settings, new RadiusHostsFirstFactor(settings, this.upstream, this.localUsers), directory);
  }

  /**
   * Binds or closes the sockets as `server enable`, `server auth-port` and `server acct-port` say; on
   * `::` when a NAS is IPv6. Resolves to the first port that could not be bound, if any.
   */
  async apply(): Promise<string | undefined> {
    const l = this.options.settings().local;
    const host = l.nas.some((n) => isV6(n.address)) ? '::' : '0.0.0.0';
    const accountingAt = l.enabled && l.acctPort !== undefined ? { port: l.acctPort, host } : undefined;
    // A port can move from one listener to the other (a reboot into a config that swapped them): each
    // closes its old socket before it binds, so accounting first frees a port for authentication, and
    // accounting tries again once authentication has let go of the one it wants.
    const accounting = await this.accountingListener.apply(accountingAt);
    const authentication = await this.listener.apply(l.enabled ? { port: l.authPort, host } : undefined);
    return authentication ?? (accounting && (await this.accountingListener.apply(accountingAt)));
  }

  status(): ListenerStatus {
    return this.listener.status();
  }

  accountingStatus(): ListenerStatus {
    return this.accountingListener.status();
  }

  /** `clear radius statistics`. */
  clearStatistics(): void {
    this.server.stats.clear();
    this.accounting.stats.clear();
    this.upstream.counters.clear();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
    await this.accountingListener.stop();
    this.server.flushDropSummary();
    this.accounting.flushDropSummary();
  }
}
