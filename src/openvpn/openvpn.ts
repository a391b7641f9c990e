/**
 * The OpenVPN server as the appliance starts it (SPEC §15): the supervisor, fed the tunnels of the
 * running config. Like the appliance's listeners it is held while a startup config is applied, so
 * no child starts on settings the rest of the file goes on to change; `release` is followed by an
 * `apply` with the final settings.
 */
import type { ProfileOptions } from './client-profile.ts';
import type { TunnelSettings } from './settings.ts';
import { OpenVpnSupervisor, type Connection, type SupervisorOptions, type TunnelStatus } from './supervisor.ts';

/** How the servers run on this host: the appliance's choices, not the running config's. */
export type OpenVpnHostOptions = Omit<SupervisorOptions, 'dir' | 'log' | 'clock' | 'login' | 'loginSettings'>;

export interface OpenVpnOptions extends SupervisorOptions {
  /** The OpenVPN tunnels of the running config (tunnels without a mode are not among them). */
  readonly tunnels: () => readonly TunnelSettings[];
}

export class OpenVpn {
  private readonly supervisor: OpenVpnSupervisor;
  private held = false;

  constructor(private readonly o: OpenVpnOptions) {
    this.supervisor = new OpenVpnSupervisor(o);
  }

  /** While a startup config is applied nothing starts or stops (see the file comment). */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }

  /** Whether a startup config is being applied (apply does nothing meanwhile). */
  holding(): boolean {
    return this.held;
  }

  /**
   * Makes the children follow the running config: starts, restarts (changed settings) and stops
   * tunnels. Resolves when each tunnel that should run is up or its first attempt failed (the
   * reason is in status()); to an error text when the supervisor refused the set as a whole, which
   * the CLI's checks should make impossible.
   */
  async apply(): Promise<string | undefined> {
    if (this.held) return undefined;
    try {
      await this.supervisor.apply(this.o.tunnels());
      return undefined;
    } catch (e) {
      const why = (e as Error).message;
      this.o.log.error('openvpn-apply-refused', { error: why });
      return why;
    }
  }

  /** Every OpenVPN tunnel's state (tunnels with a mode, running or not). */
  status(): TunnelStatus[] {
    return this.supervisor.status();
  }

  connections(tunnel?: string): Promise<Connection[]> {
    return this.supervisor.connections(tunnel);
  }

  disconnect(user: string, tunnel?: string): Promise<number> {
    return this.supervisor.disconnect(user, tunnel);
  }

  clientConfig(tunnel: string, host: string, extra?: Pick<ProfileOptions, 'comment'>): Promise<string> {
    return this.supervisor.clientConfig(tunnel, host, extra);
  }

  /** Stops every child (appliance shutdown); nothing starts again afterwards. */
  stop(): Promise<void> {
    return this.supervisor.stop();
  }
}
