/**
 * The embedded OpenVPN server (SPEC §15): one Debian `openvpn` child per running tunnel, made to
 * match the tunnels of the running config by `apply`, answered by the appliance's login decision,
 * and asked for its connections. The facade the CLI wiring calls; it never imports the CLI.
 *
 * Files, all in the private directory given (0700, files 0600): the local CA and the server
 * certificate (made once, pki.ts), and per tunnel `TUNNEL/server.conf`, `management.pw`,
 * `auth-token.key` (tunnel-runner.ts), `status.log`.
 */
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import type { LoginFunction, LoginSettings } from './auth-bridge.ts';
import { clientProfile, type ProfileOptions } from './client-profile.ts';
import { parseStatus3 } from './management-protocol.ts';
import { ensurePki, type PkiFiles } from './pki.ts';
import { preflight } from './process.ts';
import { tunnelNumber, type TunnelSettings } from './settings.ts';
import { TunnelRunner, type RunnerContext, type TunnelStatus } from './tunnel-runner.ts';
import { checkTunnels, notRunning } from './validate.ts';

export interface SupervisorOptions {
  /** Private directory in flash (created 0700). */
  readonly dir: string;
  readonly log: Log;
  readonly clock: Clock;
  /** The appliance's login decision (src/auth). */
  readonly login: LoginFunction;
  /** `aaa authentication openvpn` for a tunnel: mode, 2fa-in-password, first factor. */
  readonly loginSettings: (tunnel: string) => LoginSettings;
  /** Name or path of the openvpn binary [openvpn]. */
  readonly openvpnPath?: string;
  /** Name or path of util-linux setpriv [setpriv]. */
  readonly setprivPath?: string;
  /** The TUN/TAP clone device [/dev/net/tun]. */
  readonly tunDevice?: string;
  /** Address clients connect to; undefined = every IPv4 address of the host. */
  readonly listenAddress?: string;
  /** Let OpenVPN put the tunnel address on the device and add routes [true]. */
  readonly configureHost?: boolean;
  /** Kernel device name for a tunnel [tunnelN → tunN / tapN]. */
  readonly deviceName?: (t: TunnelSettings) => string;
  /** Restart delays after a death: first and largest [1000, 30000 ms]. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Bound from SIGTERM to SIGKILL when stopping a child [5000 ms]. */
  readonly stopTimeoutMs?: number;
  /** Bound for a child to become ready [15000 ms]. */
  readonly startTimeoutMs?: number;
}

/** One client connection, for `show openvpn connections`. */
export interface Connection {
  readonly tunnel: string;
  readonly user: string;
  /** `ip:port` the client connects from. */
  readonly realAddress: string;
  /** Its address inside the tunnel. */
  readonly tunnelAddress: string;
  /** Appliance-independent wall time (ms) OpenVPN recorded for the connection. */
  readonly connectedSince: number;
  /** Bytes received from / sent to the client. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly clientId: number;
  readonly cipher: string;
}

export type { TunnelStatus, TunnelState } from './tunnel-runner.ts';

export class OpenVpnSupervisor {
  private readonly runners = new Map<string, TunnelRunner>();
  private readonly ctx: RunnerContext;
  private pkiPromise: Promise<PkiFiles> | undefined;
  private applying: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: SupervisorOptions) {
    this.ctx = {
      dir: o.dir,
      log: o.log,
      clock: o.clock,
      login: o.login,
      loginSettings: o.loginSettings,
      configureHost: o.configureHost ?? true,
      deviceName: o.deviceName ?? ((t) => `${t.mode}${tunnelNumber(t.name) ?? 0}`),
      backoff: o.backoff ?? { initialMs: 1000, maxMs: 30_000 },
      stopTimeoutMs: o.stopTimeoutMs ?? 5000,
      startTimeoutMs: o.startTimeoutMs ?? 15_000,
      pki: () => this.pki(),
      ...(o.listenAddress ? { listenAddress: o.listenAddress } : {}),
      ...(o.openvpnPath ? { openvpnPath: o.openvpnPath } : {}),
      ...(o.setprivPath ? { setprivPath: o.setprivPath } : {}),
      ...(o.tunDevice ? { tunDevice: o.tunDevice } : {}),
    };
  }

  /** What is missing on this host to run a tunnel (a message naming the Debian package), or undefined. */
  unavailable(): string | undefined {
    const p = preflight(this.ctx);
    return typeof p === 'string' ? p : undefined;
  }

  /**
   * Makes the children match `tunnels` (the whole set from the running config): starts new ones,
   * restarts those whose settings changed, stops removed and shut-down ones. Throws, changing
   * nothing, when the set does not pass `checkTunnels`. Resolves once every started child is up or
   * its first attempt failed (see status()).
   */
  apply(tunnels: readonly TunnelSettings[]): Promise<void> {
    const problems = checkTunnels(tunnels);
    if (problems.length) return Promise.reject(new Error(problems.join('; ')));
    const run = this.applying.then(() => this.reconcile(tunnels));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async reconcile(tunnels: readonly TunnelSettings[]): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map(tunnels.map((t) => [t.name, t]));
    // Stop first (removed, shut down, changed), so a changed port or device is free again.
    const stops: Promise<void>[] = [];
    for (const [name, r] of this.runners) {
      const t = wanted.get(name);
      if (!t) {
        stops.push(r.stop('removed').then(() => void this.runners.delete(name)));
        continue;
      }
      const why = notRunning(t);
      if (why) stops.push(r.stop(why));
      else if (!sameSettings(r.settings, t)) stops.push(r.stop('settings changed'));
    }
    await Promise.all(stops);
    const starts: Promise<void>[] = [];
    for (const t of tunnels) {
      let r = this.runners.get(t.name);
      if (!r) {
        r = new TunnelRunner(t, this.ctx);
        this.runners.set(t.name, r);
      }
      r.settings = t;
      if (notRunning(t)) continue;
      const state = r.status().state;
      if (state === 'down' || state === 'failed') starts.push(r.start());
    }
    await Promise.all(starts);
  }

  /** Every configured tunnel's state. */
  status(): TunnelStatus[] {
    return [...this.runners.values()].map((r) => {
      const s = r.status();
      const why = notRunning(s.settings);
      return why && s.state === 'down' ? { ...s, reason: why } : s;
    });
  }

  /** The clients connected to `tunnel` (all tunnels when omitted), from each server's `status 3`. */
  async connections(tunnel?: string): Promise<Connection[]> {
    const out: Connection[] = [];
    for (const r of this.selected(tunnel)) {
      const mgmt = r.management();
      if (!mgmt) continue;
      let lines: string[];
      try {
        lines = await mgmt.report('status 3');
      } catch {
        continue; // the child is restarting: it has no clients
      }
      for (const c of parseStatus3(lines).clients) {
        out.push({
          tunnel: r.settings.name,
          user: c.username && c.username !== 'UNDEF' ? c.username : c.commonName,
          realAddress: c.realAddress,
          tunnelAddress: c.virtualAddress,
          connectedSince: c.connectedSince * 1000,
          bytesIn: c.bytesReceived,
          bytesOut: c.bytesSent,
          clientId: c.clientId,
          cipher: c.cipher,
        });
      }
    }
    return out;
  }

  /**
   * Drops every connection of `user` (`clear openvpn connection USER`): the client is told to exit
   * (`client-kill CID HALT`; a RESTART would bring it straight back with its session token) and the
   * session token is refused from now on. Resolves to the number of connections dropped.
   */
  async disconnect(user: string, tunnel?: string): Promise<number> {
    let count = 0;
    for (const c of await this.connections(tunnel)) {
      if (c.user !== user) continue;
      const r = this.runners.get(c.tunnel)!;
      const mgmt = r.management();
      if (!mgmt) continue;
      r.bridge.revokeClient(c.clientId);
      try {
        // management-notes.txt client-kill {CID} [message]: the message goes to the client;
        // HALT makes it exit instead of reconnecting (push.c server_pushed_signal).
        await mgmt.command(`client-kill ${c.clientId} HALT`);
        count++;
      } catch {
        // gone meanwhile
      }
    }
    if (count) this.o.log.info('openvpn-cleared', { user, connections: count, ...(tunnel ? { tunnel } : {}) });
    return count;
  }

  /** The client profile of a configured tunnel (`show openvpn client-config tunnelN`). */
  async clientConfig(tunnel: string, host: string, extra: Pick<ProfileOptions, 'comment'> = {}): Promise<string> {
    const r = this.runners.get(tunnel);
    if (!r) throw new Error(`${tunnel} is not an OpenVPN tunnel`);
    const pki = await this.pki();
    // A tunnel whose logins take the password alone must not make the client ask for a code.
    const staticChallenge = this.o.loginSettings(tunnel).mode !== 'off';
    return clientProfile(r.settings, { ...extra, staticChallenge, host, caCert: pki.caCert });
  }

  /** Stops every child (appliance shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.applying;
    await Promise.all([...this.runners.values()].map((r) => r.stop('appliance stopping')));
  }

  /** Diagnostics and tests: the runner of a tunnel. */
  runner(tunnel: string): TunnelRunner | undefined {
    return this.runners.get(tunnel);
  }

  private selected(tunnel: string | undefined): TunnelRunner[] {
    if (tunnel === undefined) return [...this.runners.values()];
    const r = this.runners.get(tunnel);
    return r ? [r] : [];
  }

  private pki(): Promise<PkiFiles> {
    this.pkiPromise ??= ensurePki(this.o.dir, this.o.clock.now()).then((p) => {
      if (p.created.length) this.o.log.info('openvpn-pki-created', { created: p.created });
      return p;
    });
    // A failure (disk full) is not remembered: the next start tries again.
    this.pkiPromise.catch(() => (this.pkiPromise = undefined));
    return this.pkiPromise;
  }
}

function sameSettings(a: TunnelSettings, b: TunnelSettings): boolean {
  return (
    a.mode === b.mode &&
    a.port === b.port &&
    a.protocol === b.protocol &&
    a.address === b.address &&
    a.shutdown === b.shutdown &&
    a.renegSeconds === b.renegSeconds &&
    a.routes.length === b.routes.length &&
    a.routes.every((r, i) => r === b.routes[i])
  );
}
