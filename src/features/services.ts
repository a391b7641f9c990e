/**
 * What command handlers may use of the appliance. `app.ts` provides it; features never reach further.
 */
import type { RunningConfig } from '../config/model.ts';
import type { ConfigStore } from '../config/store.ts';
import type { CommandContext, Handler, HandlerTable, SessionSource } from '../session/context.ts';
import type { ApplianceClock } from '../util/clock.ts';
import type { Flash } from '../util/flash.ts';
import type { SecretBox } from '../util/secret-box.ts';
import type { AuditTrail } from '../util/log.ts';
import type { TwoFactorService } from '../twofa/service.ts';

/** A CLI session as `show users` lists it. */
export interface SessionInfo {
  readonly id: number;
  readonly source: SessionSource;
  readonly user: string;
  /** Client address for remote sessions, `console` or `local` otherwise. */
  readonly location: string;
  readonly idleSince: number;
}

/** Boot settings kept outside the configuration, like a router's boot environment. */
export interface BootSettings {
  /** Flash file name of the startup config (`default.cfg`). */
  configFile: string;
}

/** What `show ssh server` reports. */
export interface SshStatus {
  readonly listening: boolean;
  readonly port: number | undefined;
  /** Why the configured port could not be bound. */
  readonly error: string | undefined;
  readonly sessions: number;
  readonly hostKeys: readonly { type: string; fingerprint: string }[];
}

/** The SSH server as handlers drive it. */
export interface SshControl {
  status(): SshStatus;
  /** Makes the listener follow the running config; resolves to an error text if it cannot bind. */
  apply(): Promise<string | undefined>;
}

/** Counters of one upstream RADIUS server. */
export interface UpstreamCounters {
  readonly requests: number;
  readonly accepts: number;
  readonly rejects: number;
  readonly timeouts: number;
  readonly badReplies: number;
}

/** The RADIUS engine as handlers see it. */
export interface RadiusControl {
  /** Binds or closes the local server's socket to follow the running config; an error text if it cannot bind. */
  apply(): Promise<string | undefined>;
  status(): { listening: boolean; port: number | undefined; error: string | undefined };
  server(): {
    requests: number;
    accepts: number;
    rejects: number;
    challenges: number;
    duplicates: number;
    drops: ReadonlyMap<string, number>;
    reasons: ReadonlyMap<string, number>;
  };
  upstream(): ReadonlyMap<string, UpstreamCounters>;
  clear(): void;
}

/** The appliance as handlers see it. */
export interface Services {
  readonly config: ConfigStore<RunningConfig>;
  readonly clock: ApplianceClock;
  readonly flash: Flash;
  /** Opens `8 …` secrets of the config (sealed on this appliance). */
  readonly secrets: SecretBox;
  /** Audit log: events go to stderr/JSON and the newest are kept for `show log`. */
  readonly log: AuditTrail;
  /** The 2FA engine facade (users live in its store, not in the config). */
  readonly twofa: TwoFactorService;
  readonly ssh: SshControl;
  readonly radius: RadiusControl;
  /** Emulated software version. */
  readonly version: string;
  /** Appliance-clock time of the last boot. */
  readonly bootedAt: () => number;
  boot(): BootSettings;
  setBoot(settings: BootSettings): void;
  /** Persists the clock offset (the emulated RTC). */
  saveClock(): void;
  /** The running-config text, or one section of it. */
  renderRunning(section?: string): string;
  /** Names of `show running-config SECTION`. */
  readonly sectionNames: readonly string[];
  sessions(): SessionInfo[];
  /** Restarts the appliance in place; the session asking is closed too. */
  reboot(): Promise<unknown>;
}

/** Handler and context types specialised to our services. */
export type Ctx = CommandContext<Services>;
export type Handlers = HandlerTable<Services>;
export type FeatureHandler = Handler<Services>;
