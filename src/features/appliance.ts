/**
 * What command handlers may use of the appliance. The composition root (app.ts) provides it, fully
 * started; features never reach further.
 */
import type { BootEnv } from '../config/boot-env.ts';
import type { RunningConfig } from '../config/model.ts';
import type { ConfigStore } from '../config/store.ts';
import type { LdapStatistics } from '../ldap/statistics.ts';
import type { PermanentLogStats } from '../log/permanent.ts';
import type { SyslogStats } from '../log/syslog.ts';
import type { OpenVpn } from '../openvpn/index.ts';
import type { Radius } from '../radius/radius.ts';
import type { SessionInfo } from '../session/registry.ts';
import type { CommandContext, Handler, HandlerTable } from '../session/context.ts';
import type { NtpAssociation, NtpStatus } from '../time/ntp-client.ts';
import type { TwoFactor } from '../twofa/facade.ts';
import type { UserStores } from '../twofa/store/stores.ts';
import type { ApplianceClock } from '../util/clock.ts';
import type { Flash } from '../util/flash.ts';
import type { ListenerStatus } from '../util/listener.ts';
import type { AuditTrail, LogEvent } from '../util/log.ts';
import type { SecretBox } from '../util/secret-box.ts';

/** What `show ssh server` reports. */
export interface SshStatus extends ListenerStatus {
  readonly sessions: number;
  readonly hostKeys: readonly { type: string; fingerprint: string }[];
}

/** The SSH server as handlers drive it. */
export interface SshControl {
  status(): SshStatus;
  /** Makes the listener follow the running config; resolves to an error text if it cannot bind. */
  apply(): Promise<string | undefined>;
}

/** What `show 2fa self-registration` reports. */
export interface RegistrationStatus extends ListenerStatus {
  /** The certificate served (or to be served while the page cannot listen). */
  readonly certificate: { readonly source: string; readonly fingerprint: string; readonly notAfter: Date; readonly subject: string; readonly dnsNames: readonly string[] } | undefined;
  readonly counters: {
    readonly registrations: number;
    readonly failures: Readonly<Record<'bad-login' | 'locked-out' | 'already-registered' | 'first-factor-timeout' | 'unavailable', number>>;
    readonly csrfRejected: number;
    readonly rateLimited: number;
  };
  /** Names without a 2FA record that the page locks out now. */
  readonly lockedOutNames: number;
}

/** The self-registration page as handlers drive it. */
export interface RegistrationControl {
  status(): RegistrationStatus;
  /** Makes the page follow the running config, reading the certificate files again; an error text if it cannot listen. */
  apply(): Promise<string | undefined>;
  /** Forgets the page's failed logins of a name without a 2FA record; true if there were any. */
  clearLockout(name: string, by: string): boolean;
}

/** The NTP client as `show ntp` reads it; it follows the `ntp server` lines by itself. */
export interface NtpView {
  status(): NtpStatus;
  associations(): NtpAssociation[];
}

/** Where audit events go besides `show log`: the permanent log in flash and the `log host`s. */
export interface LogSinks {
  readonly permanent: {
    /** The newest `count` events (all when omitted), oldest first, across restarts. */
    read(count?: number): Promise<LogEvent[]>;
    stats(): PermanentLogStats;
  };
  readonly syslog: { stats(): SyslogStats };
}

/** The appliance as handlers see it. */
export interface Appliance {
  readonly config: ConfigStore<RunningConfig>;
  readonly clock: ApplianceClock;
  readonly flash: Flash;
  /** The boot environment (`boot config-file`) and the saved clock offset. */
  readonly bootEnv: BootEnv;
  /** Seals and opens `8 …` secrets of the config (on this appliance only). */
  readonly secrets: SecretBox;
  /** Audit log: events go to stderr/JSON and the newest are kept for `show log`. */
  readonly log: AuditTrail;
  /** The 2FA engine facade (users live in its store, not in the config). */
  readonly twofa: TwoFactor;
  /** The store behind it: embedded or PostgreSQL, its health, `2fa store migrate` (SPEC §16). */
  readonly userStore: UserStores;
  readonly ssh: SshControl;
  readonly radius: Radius;
  /** The LDAP first factor's per-server counters (`show ldap server`). */
  readonly ldap: { readonly statistics: LdapStatistics };
  /** The embedded OpenVPN server: one child per running `interface tunnelN`. */
  readonly openvpn: OpenVpn;
  readonly registration: RegistrationControl;
  /** The SNTP client that steers `clock` (`ntp server`). */
  readonly ntp: NtpView;
  readonly logs: LogSinks;
  /** Emulated software version. */
  readonly version: string;
  /** Appliance-clock time of the last boot. */
  bootedAt(): number;
  /** The running-config text, or one section of it. */
  renderRunning(section?: string): string;
  /** Names of `show running-config SECTION`. */
  readonly sectionNames: readonly string[];
  sessions(): SessionInfo[];
  /** Restarts the appliance in place; the session asking is closed too. */
  reboot(): Promise<unknown>;
  /** Checks a password against a crypt(3) hash off the event loop (rejects when too many are waiting). */
  checkPassword(password: string, hash: string): Promise<boolean>;
  /** Hashes a new password for crypt(3) off the event loop (rejects when too many are waiting). */
  hashPassword(password: string): Promise<string>;
}

/** Handler and context types specialised to the appliance. */
export type Ctx = CommandContext<Appliance>;
export type Handlers = HandlerTable<Appliance>;
export type FeatureHandler = Handler<Appliance>;
