/**
 * Composition root (fastify build vs listen): `App.start` opens the flash directory, builds every
 * subsystem from its own folder, applies the startup config and only then starts the listeners. What
 * it returns is fully started, so nothing can be used half-built. Transports (console, control
 * socket) attach to it through the narrow CliHost interface.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChallengeStore } from './auth/challenges.ts';
import { CliLogin, type CliLoginAttempt } from './auth/cli-login.ts';
import { login } from './auth/login.ts';
import type { LoginRequest } from './auth/types.ts';
import { SelfRegistration } from './auth/registration.ts';
import { BootEnv } from './config/boot-env.ts';
import { factoryConfig, type RunningConfig } from './config/model.ts';
import { ConfigStore } from './config/store.ts';
import { emailTemplate, storeChoice, twofaSettings } from './features/2fa/settings.ts';
import type { Appliance } from './features/appliance.ts';
import { productGrammar } from './features/grammar.ts';
import { handlers, renderRunning, sections } from './features/index.ts';
import { openvpnLdapServers, registrationLdapServers } from './features/ldap/settings.ts';
import { smtpSettings } from './features/mail/settings.ts';
import { openvpnLogin, openvpnTunnels } from './features/openvpn/settings.ts';
import { radiusSettings, registrationRadiusSettings } from './features/radius-local/settings.ts';
import { Ldap } from './ldap/index.ts';
import { DeferredLog, type EventSink } from './log/deferred.ts';
import { PermanentLog, type PermanentLogOptions } from './log/permanent.ts';
import { SyslogSender } from './log/syslog.ts';
import { OpenVpn, type OpenVpnHostOptions } from './openvpn/index.ts';
import { registrationPageSettings } from './features/self-registration/settings.ts';
import { Radius } from './radius/radius.ts';
import { SessionRegistry, type OpenSessionOptions } from './session/registry.ts';
import { runConfigScript, type BootReport } from './session/script.ts';
import type { Session } from './session/session.ts';
import { NtpClient, type NtpClientOptions, type SteerableClock } from './time/ntp-client.ts';
import { SshServer, type SshHost } from './transports/ssh.ts';
import { startTwoFactor } from './twofa/start.ts';
import type { TwoFactor } from './twofa/facade.ts';
import { skewOf } from './twofa/verifier.ts';
import { UserStores } from './twofa/store/stores.ts';
import { ApplianceClock } from './util/clock.ts';
import { hashPassword, verifyPassword } from './util/crypt.ts';
import { WorkerPool } from './util/worker-pool.ts';
import { Flash } from './util/flash.ts';
import { acquireFlashLock, type FlashLock } from './util/flash-lock.ts';
import { AuditTrail, jsonLine, teeLog, type Log } from './util/log.ts';
import { SecretBox } from './util/secret-box.ts';
import { RegistrationService } from './web/index.ts';

/**
 * Audit events that come in bulk: those a stranger can cause at will, without any credential —
 * summaries of dropped RADIUS datagrams, failed or throttled CLI logins, failed page logins, refused or
 * broken connections — and RADIUS accounting records, which a NAS sends for every session again and
 * again (interim updates). They are kept apart in `show log` (util/log.ts AuditTrail) so a flood of
 * them never evicts a login.
 */
const BULK_EVENTS = new Set(['radius-drops', 'radius-accounting', 'radius-accounting-drops', 'login-failed', 'ssh-connection-error', 'web-registration-failed', 'web-rate-limited', 'web-csrf-rejected']);

/** The modules whose exports run in the worker threads (worker-pool.ts). */
const CRYPT = new URL('./util/crypt.ts', import.meta.url);
const VERIFIER = new URL('./twofa/verifier.ts', import.meta.url);
const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface AppOptions {
  /** The flash directory (created when missing). */
  readonly flash: string;
  /** Sees every audit event as it is logged (tests); the appliance's own outputs are `lines` and flash. */
  readonly log?: Log;
  /** Where the audit events go as JSON lines (stderr in the daemon): after each turn, in one write. */
  readonly lines?: AuditLines;
  /** Defaults to the system clock shifted by the offset saved in flash. */
  readonly clock?: ApplianceClock;
  /** How OpenVPN servers run on this host (binaries, devices, restart delays); defaults suit a Debian host. */
  readonly openvpn?: OpenVpnHostOptions;
  /** The permanent log's size and buffering; defaults: 2 files of 1 MiB, flushed every second. */
  readonly permanentLog?: Pick<PermanentLogOptions, 'maxFileBytes' | 'files' | 'flushIntervalMs' | 'maxBufferBytes'>;
  /** The NTP client's intervals and limits (tests shorten them); the servers come from the config. */
  readonly ntp?: Omit<NtpClientOptions, 'clock' | 'log'>;
}

/** The JSON lines of audit events (util/log.ts jsonLine) and where they are written. */
export interface AuditLines {
  readonly write: (text: string) => void;
  /** Only events of level error (the console, where routine events would interleave with the session). */
  readonly errorsOnly?: boolean;
}

/** Where audit events go besides `show log`: the JSON lines, flash and the `log host`s, all fed by `deferred`. */
interface LogSinks {
  readonly permanent: PermanentLog;
  readonly syslog: SyslogSender;
  readonly deferred: DeferredLog;
}

/** The appliance: one per flash directory and process. */
export class App extends EventEmitter<{ rebooting: []; rebooted: [BootReport] }> implements SshHost {
  readonly sessions: SessionRegistry<Appliance>;
  readonly radius: Radius;
  readonly ldap: Ldap;
  readonly openvpn: OpenVpn;
  readonly ssh: SshServer;
  /** The self-registration page (SPEC §8) and its backend. */
  readonly registration: RegistrationService;
  readonly selfRegistration: SelfRegistration;
  readonly secrets: SecretBox;
  /** The SNTP client (`ntp server`): steers `clock`, started after boot like the listeners. */
  readonly ntp: NtpClient;
  private readonly cliLogin: CliLogin;
  /** crypt(3) checks and hashes for every front door, in worker threads: none of them holds the event loop. */
  private readonly checkPassword: (password: string, hash: string) => Promise<boolean>;
  private readonly hashPassword: (password: string) => Promise<string>;
  private readonly view: Appliance;
  private bootedAt = 0;
  bootReport: BootReport = { file: '', errors: [] };

  private constructor(
    readonly flash: Flash,
    readonly bootEnv: BootEnv,
    readonly clock: ApplianceClock,
    readonly log: AuditTrail,
    readonly config: ConfigStore<RunningConfig>,
    readonly twofa: TwoFactor,
    /** The store behind `twofa`: embedded, or PostgreSQL shared with other appliances (SPEC §16). */
    readonly userStore: UserStores,
    private readonly lock: FlashLock,
    /** The permanent log in flash and the syslog sender, behind `log` (stop() closes them). */
    readonly logs: LogSinks,
    /** Where CPU-heavy work runs (crypt(3), the skew search), off the event loop. */
    private readonly threads: WorkerPool,
    openvpnHost: OpenVpnHostOptions = {},
    ntpOptions: AppOptions['ntp'] = {},
  ) {
    super();
    this.ntp = new NtpClient({ ...ntpOptions, clock: rtcClock(clock, bootEnv, log), log });
    // `log host` and `ntp server` follow the config as it changes. During a boot the store batches its
    // change events, so they see the startup config once, whole; the NTP client is stopped meanwhile
    // (boot()) and only keeps the list until it is started.
    this.config.on('change', (c) => this.followConfig(c));
    this.secrets = SecretBox.forFlash(flash.dir);
    const challenges = new ChallengeStore();
    const now = () => clock.now();
    this.ldap = new Ldap({ clock, log });
    // One login decision for every front door: single use, lockout and challenges are shared.
    const decide = (r: LoginRequest) => login(r, { twofa, challenges, now });
    const checkPassword = (this.checkPassword = threads.bind(CRYPT, verifyPassword));
    this.hashPassword = threads.bind(CRYPT, hashPassword);
    this.radius = new Radius({
      settings: this.config.derived(radiusSettings),
      login: decide,
      directory: this.ldap.firstFactor(this.config.derived(openvpnLdapServers)),
      log,
      now,
      // A retransmission that reaches another appliance of the group gets the same answer (SPEC §16).
      sharedDecisions: () => userStore.decisions(),
      checkPassword,
    });
    this.openvpn = new OpenVpn({
      // The kernel device is named after the interface (`ip link` shows tunnel0), which no other
      // program on the host is likely to use; a host option may choose otherwise.
      deviceName: (t) => t.name,
      ...openvpnHost,
      dir: join(flash.dir, '.openvpn'),
      log,
      clock,
      login: decide,
      tunnels: this.config.derived(openvpnTunnels),
      loginSettings: () => openvpnLogin(this.config.current, this.radius.openvpnFirstFactor),
    });
    this.cliLogin = new CliLogin(() => this.config.current.users, checkPassword, log, () => performance.now());
    this.ssh = new SshServer(this);
    // The page checks passwords with the same first-factor code as the RADIUS path (SPEC §8).
    const registrationFirstFactor = this.radius.methodFirstFactor(
      config.derived(registrationRadiusSettings),
      this.ldap.firstFactor(config.derived(registrationLdapServers)),
    );
    this.selfRegistration = new SelfRegistration({
      twofa,
      firstFactor: () => registrationFirstFactor,
      settings: config.derived(twofaSettings),
      clock,
      monotonic: () => performance.now(),
      log,
    });
    this.registration = new RegistrationService({ backend: this.selfRegistration, flash, clock, log, settings: config.derived(registrationPageSettings) });
    this.view = this.applianceView();
    const grammar = productGrammar();
    this.sessions = new SessionRegistry((id) => ({
      grammar,
      handlers,
      app: this.view,
      hostname: () => this.config.current.hostname,
      now,
      internalError: (e) => log.error('internal-error', { session: id, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }),
    }));
  }

  /** Locks the flash, opens the user store, applies the startup config and starts the listeners. */
  static async start(options: AppOptions): Promise<App> {
    const flash = new Flash(options.flash);
    const lock = acquireFlashLock(flash);
    let sinks: LogSinks | undefined;
    let threads: WorkerPool | undefined;
    try {
      const bootEnv = new BootEnv(flash);
      const clock = options.clock ?? new ApplianceClock(bootEnv.clockOffset());
      const config = new ConfigStore<RunningConfig>(() => factoryConfig(hashPassword));
      const now = () => clock.now();
      // Every audit event goes to the JSON lines (stderr in the daemon), the permanent log in flash and
      // the syslog hosts, all after the turn that logged it; the newest stay in memory for `show log`
      // (SPEC §11, §17). None of them waits or throws on the caller's time.
      const permanent = new PermanentLog({ ...options.permanentLog, dir: flash.dir, now });
      const syslog = new SyslogSender({ now, hostname: () => config.current.hostname });
      const outputs: EventSink[] = [(es) => es.forEach((e) => permanent.append(e)), (es) => es.forEach((e) => syslog.send(e))];
      if (options.lines) outputs.unshift(linesSink(options.lines));
      sinks = { permanent, syslog, deferred: new DeferredLog(now, outputs) };
      const log = new AuditTrail(options.log ? teeLog(options.log, sinks.deferred) : sinks.deferred, now, 1000, { is: (e) => BULK_EVENTS.has(e), size: 500 });
      if (flash.tightenedFrom !== undefined) log.info('flash-permissions-tightened', { dir: flash.dir, from: flash.tightenedFrom.toString(8).padStart(4, '0'), to: '0700' });
      const stores = await UserStores.open(flash.dir, clock, log);
      threads = new WorkerPool(log);
      const twofa = startTwoFactor(
        {
          flash,
          clock,
          log,
          settings: config.derived(twofaSettings),
          smtp: config.derived(smtpSettings),
          template: () => emailTemplate(config.current, flash),
          searchSkew: threads.bind(VERIFIER, skewOf),
        },
        stores,
      );
      const app = new App(flash, bootEnv, clock, log, config, twofa, stores, lock, sinks, threads, options.openvpn, options.ntp);
      await app.boot().catch(async (e: unknown) => {
        await app.ntp.stop();
        await twofa.close();
        throw e;
      });
      stores.warm();
      return app;
    } catch (e) {
      await threads?.close();
      sinks?.deferred.flush();
      await sinks?.syslog.close(0);
      await sinks?.permanent.close();
      lock.release();
      throw e;
    }
  }

  private applianceView(): Appliance {
    const app = this;
    return {
      config: this.config, clock: this.clock, flash: this.flash, bootEnv: this.bootEnv, secrets: this.secrets, log: this.log,
      twofa: this.twofa, userStore: this.userStore, ssh: this.ssh, radius: this.radius, ldap: this.ldap, openvpn: this.openvpn, version: VERSION, sectionNames: sections.map((s) => s.name),
      registration: {
        status: () => ({ ...app.registration.status(), lockedOutNames: app.selfRegistration.lockedOutNames() }),
        apply: () => app.registration.apply(),
        clearLockout: (name, by) => app.selfRegistration.clearLockout(name, by),
      },
      ntp: this.ntp,
      logs: {
        // What was logged in this very turn is not handed over yet: it belongs in the answer too.
        permanent: { read: (count) => (app.logs.deferred.flush(), app.logs.permanent.read(count)), stats: () => app.logs.permanent.stats() },
        syslog: app.logs.syslog,
      },
      bootedAt: () => app.bootedAt,
      renderRunning: (section) => renderRunning(app.config.current, (t) => app.secrets.seal(t), section),
      sessions: () => app.sessions.list(),
      reboot: () => app.reboot(),
      checkPassword: app.checkPassword,
      hashPassword: app.hashPassword,
    };
  }

  /** The running-config text, or one section of it. */
  renderRunning(section?: string): string {
    return this.view.renderRunning(section);
  }

  // ---- SshHost (what the transports use) ------------------------------------------------------
  openSession(o: OpenSessionOptions): Session<Appliance> {
    return this.sessions.open(o);
  }
  login(attempt: CliLoginAttempt) {
    return this.cliLogin.login(attempt);
  }
  hostname(): string {
    return this.config.current.hostname;
  }
  onReboot(listener: () => void): () => void {
    this.on('rebooted', listener);
    return () => this.off('rebooted', listener);
  }
  sshSettings() {
    return this.config.current.ssh;
  }
  idleSeconds(via: 'console' | 'ssh'): number {
    const l = this.config.current.lines;
    return via === 'console' ? l.conTimeout : l.vtyTimeout;
  }

  /** `log host` and `ntp server` as the running config says. */
  private followConfig(c: Readonly<RunningConfig>): void {
    try {
      this.logs.syslog.apply(c.logHosts);
    } catch (e) {
      // The grammar admits addresses only; this would be a bug, reported rather than thrown at the CLI.
      this.log.error('log-host-refused', { error: e instanceof Error ? e.message : String(e) });
    }
    this.ntp.apply(c.ntpServers);
  }

  /** Factory defaults, then the startup config line by line (SPEC §3), then the listeners once. */
  private async boot(): Promise<void> {
    this.bootedAt = this.clock.now();
    const file = this.bootEnv.boot().configFile;
    const listeners = [this.radius.listener, this.radius.accountingListener, this.ssh.listener, this.registration];
    for (const l of listeners) l.hold();
    this.openvpn.hold();
    // Held like the listeners: no poll (and no clock step) on a server list the file may go on to change.
    await this.ntp.stop();
    const errors = await this.config.batch(async () => {
      this.config.reset();
      if (!this.flash.exists(file)) return [];
      const session = this.sessions.open({ source: 'file', user: 'system', userPrivilege: 15, enabled: true, location: 'boot' });
      try {
        return await runConfigScript(session, this.flash.read(file));
      } finally {
        session.close();
      }
    });
    // `2fa store` takes effect here, before any listener opens: no login is in flight (stores.ts).
    await this.userStore.select(storeChoice(this.config.current));
    for (const l of listeners) l.release();
    this.openvpn.release();
    this.bootReport = { file, errors };
    for (const e of errors) this.log.info('boot-config-error', { file: `flash:/${file}`, line: e.line, error: e.message });
    this.log.info('booted', { file: `flash:/${file}`, errors: errors.length });
    await this.ssh.apply();
    await this.radius.apply();
    await this.openvpn.apply();
    await this.registration.apply();
    // The first poll goes out at once when servers are configured (NtpClient.start).
    this.ntp.start();
  }

  /** `reboot`: every session ends, the config goes back to factory defaults and boots again. */
  async reboot(): Promise<BootReport> {
    this.emit('rebooting');
    this.sessions.closeAll();
    await this.boot();
    this.emit('rebooted', this.bootReport);
    return this.bootReport;
  }

  /** Closes every session and listener, flushes and closes the user store, and releases the flash. */
  async stop(): Promise<void> {
    this.sessions.closeAll();
    await this.ntp.stop();
    await this.ssh.stop();
    await this.radius.stop();
    // Before the user store closes: a login being answered still needs it.
    await this.openvpn.stop();
    await this.registration.stop();
    // Checks still waiting end as unanswered (the logins fail) rather than go on into a closing store.
    await this.threads.close();
    await this.twofa.close();
    // Last, so what the shutdown logged is in them: datagrams in flight get a moment, and the
    // permanent log writes its queue and fsyncs before the flash is released.
    this.logs.deferred.flush();
    await this.logs.syslog.close(500);
    await this.logs.permanent.close();
    this.lock.release();
  }
}

/**
 * The clock the NTP client steers: the appliance clock, with each step of a second or more also saved
 * in flash, as a router writes NTP time to its real-time clock, so a restart starts from the time NTP
 * gave rather than from an old `clock set`. A save that fails (a full flash) is logged; the clock is
 * stepped all the same.
 */
function rtcClock(clock: ApplianceClock, bootEnv: BootEnv, log: Log): SteerableClock {
  return {
    now: () => clock.now(),
    set(ms: number) {
      clock.set(ms);
      try {
        if (Math.abs(clock.offset - bootEnv.clockOffset()) >= 1000) bootEnv.saveClockOffset(clock.offset);
      } catch (e) {
        log.error('clock-save-failed', { error: e instanceof Error ? e.message : String(e) });
      }
    },
    get offset() {
      return clock.offset;
    },
  };
}

/** The JSON lines of a turn's events, in one write. */
function linesSink(lines: AuditLines): EventSink {
  return (events) => {
    const text = (lines.errorsOnly ? events.filter((e) => e.level === 'error') : events).map(jsonLine).join('');
    if (text) lines.write(text);
  };
}
