/**
 * Composition root (fastify build vs listen): `build()` wires the grammar, the config store, the
 * features and the flash directory into one appliance; `start()` locks the flash and boots it. It
 * never listens by itself: transports (console, control socket, later SSH and RADIUS) attach to it.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadGrammar } from './cli/grammar/load.ts';
import type { Grammar } from './cli/grammar/graph.ts';
import { msg } from './cli/messages.ts';
import type { Validator } from './cli/types.ts';
import { factoryConfig, type LocalUser, type RunningConfig } from './config/model.ts';
import { assemble } from './config/render.ts';
import { ConfigStore } from './config/store.ts';
import { handlers, sections } from './features/index.ts';
import type { BootSettings, Services, SessionInfo } from './features/services.ts';
import type { SessionSource } from './session/context.ts';
import { runConfigScript, type ScriptError } from './session/script.ts';
import { checkBindings, Session } from './session/session.ts';
import { ApplianceClock } from './util/clock.ts';
import { hashPassword, isCryptHash, verifyPassword } from './util/crypt.ts';
import { Flash, flashName } from './util/flash.ts';
import { acquireFlashLock, type FlashLock } from './util/flash-lock.ts';
import { SecretBox } from './util/secret-box.ts';
import { smtpMailer } from './util/smtp-mailer.ts';
import { DEFAULT_TEMPLATE, EmailOtp, parseTemplate, type EmailTemplate, type Mailer } from './twofa/email-otp.ts';
import { AuditTrail, type Log } from './util/log.ts';
import { twofaSettings } from './features/2fa/settings.ts';
import { TwoFactorService } from './twofa/service.ts';
import { UserStore } from './twofa/user-store.ts';
import { SshService } from './transports/ssh.ts';
import { radiusSettings } from './features/radius-server/settings.ts';
import { ChallengeStore } from './radius/challenges.ts';
import { FirstFactor } from './radius/first-factor.ts';
import { RadiusServer } from './radius/server.ts';
import { RadiusUdp } from './radius/udp.ts';
import { UpstreamClient } from './radius/upstream-client.ts';

const GRAMMAR_DIR = fileURLToPath(new URL('../grammar', import.meta.url));
const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const BOOT_FILE = '.boot';
const CLOCK_FILE = '.clock';

/** Validators for AW+-specific parameter types (grammar/types.cli). */
const validators: Record<string, Validator> = {
  'flash-file': (w) => (flashName(w) !== undefined ? { ok: true, value: w } : { ok: false }),
  // 1-64 chars; first a letter or a symbol other than '+' (awplus-spec.md §4.7 [FOUND S8]).
  username: (w) => (/^[A-Za-z_.@-][A-Za-z0-9_.@+-]{0,63}$/.test(w) ? { ok: true, value: w } : { ok: false }),
  password: (w) => (w.length >= 1 && w.length <= 32 ? { ok: true, value: w } : { ok: false }),
  'crypt-hash': (w) => (isCryptHash(w) ? { ok: true, value: w } : { ok: false }),
  // Copy sources of `2fa import user-data` (SPEC §9).
  'source-url': (w) => (flashName(w) !== undefined && /^flash:/i.test(w)) || /^(tftp|https?):\/\/[^/\s]+\/\S/i.test(w) ? { ok: true, value: w } : { ok: false },
};

let grammarCache: Grammar | undefined;

/** The product grammar, compiled once per process (it is immutable). */
export function productGrammar(): Grammar {
  grammarCache ??= loadGrammar(GRAMMAR_DIR, validators);
  return grammarCache;
}

/** Options of `build`. */
export interface BuildOptions {
  /** The flash directory (created when missing). */
  readonly flash: string;
  readonly log: Log;
  /** Defaults to the system clock shifted by the offset saved in flash. */
  readonly clock?: ApplianceClock;
}

/** What booting the startup config found. */
export interface BootReport {
  readonly file: string;
  readonly errors: readonly ScriptError[];
}

/** How a transport opens a CLI session. */
export interface OpenSessionOptions {
  readonly source: SessionSource;
  readonly user: string;
  readonly userPrivilege: number;
  readonly enabled: boolean;
  readonly location: string;
  readonly terminalLength?: number;
  /** False when no prompt is shown before the line (SSH exec): the `^` marker then counts from column 0. */
  readonly echoesPrompt?: boolean;
}

/** The appliance: one per flash directory and process. */
export class App extends EventEmitter<{ rebooting: []; rebooted: [BootReport] }> {
  readonly flash: Flash;
  readonly clock: ApplianceClock;
  readonly log: AuditTrail;
  readonly config: ConfigStore<RunningConfig>;
  readonly services: Services;
  /** Seals configuration secrets for their `8 …` form (key in flash). */
  readonly secrets: SecretBox;
  private readonly grammar = productGrammar();
  private readonly sessions = new Map<number, { session: Session<Services>; location: string }>();
  private nextSessionId = 1;
  private bootedAt = 0;
  private lock: FlashLock | undefined;
  private twofaService: TwoFactorService | undefined;
  private sshService: SshService | undefined;
  private radiusParts: { server: RadiusServer; udp: RadiusUdp; upstream: UpstreamClient } | undefined;

  constructor(options: BuildOptions) {
    super();
    const problems = checkBindings(this.grammar, handlers);
    if (problems.length) throw new Error(`grammar and handlers disagree:\n${problems.join('\n')}`);
    this.flash = new Flash(options.flash);
    this.clock = options.clock ?? new ApplianceClock(this.readJson<{ offsetMs: number }>(CLOCK_FILE)?.offsetMs ?? 0);
    this.log = new AuditTrail(options.log, () => this.clock.now());
    this.secrets = SecretBox.forFlash(this.flash);
    this.config = new ConfigStore(() => factoryConfig(hashPassword));
    const app = this;
    this.services = {
      config: this.config,
      clock: this.clock,
      flash: this.flash,
      log: this.log,
      secrets: this.secrets,
      get twofa() {
        return app.twofa;
      },
      ssh: {
        status: () => app.ssh.status(),
        apply: () => app.ssh.apply(),
      },
      radius: {
        apply: () => app.applyRadius(),
        status: () => app.radius.udp.status(),
        server: () => app.radius.server.stats,
        upstream: () => app.radius.upstream.counters,
        clear: () => {
          app.radius.server.stats.clear();
          app.radius.upstream.counters.clear();
        },
      },
      version: VERSION,
      bootedAt: () => app.bootedAt,
      boot: () => app.bootSettings(),
      setBoot: (s) => app.flash.write(BOOT_FILE, JSON.stringify(s) + '\n'),
      saveClock: () => app.flash.write(CLOCK_FILE, JSON.stringify({ offsetMs: app.clock.offset }) + '\n'),
      renderRunning: (section) => app.renderRunning(section),
      sectionNames: sections.map((s) => s.name),
      sessions: () => app.sessionList(),
      reboot: () => app.reboot(),
    };
  }

  /** The 2FA engine; exists once `start` has opened the user store. */
  get twofa(): TwoFactorService {
    if (!this.twofaService) throw new Error('the appliance is not started');
    return this.twofaService;
  }

  /** The SSH server; exists once `start` has run. */
  get ssh(): SshService {
    if (!this.sshService) throw new Error('the appliance is not started');
    return this.sshService;
  }

  /**
   * Locks the flash directory, opens the 2FA user store, boots the startup config and starts the
   * configured services; resolves when every one of them listens (the daemon's `ready`).
   */
  async start(): Promise<BootReport> {
    this.lock = acquireFlashLock(this.flash);
    try {
      const store = await UserStore.open(this.flash.dir);
      // Engines read settings on every request: derive them once per config change, not per request.
      const twofa = this.derived(twofaSettings);
      const email = new EmailOtp(() => this.mailer(), () => this.emailTemplate(), this.clock, this.log);
      this.twofaService = new TwoFactorService(store, this.clock, this.log, twofa, email);
      this.sshService = new SshService(this);
      const settings = this.derived(radiusSettings);
      const upstream = new UpstreamClient(() => performance.now());
      const server = new RadiusServer(
        {
          settings,
          twofa: this.twofaService,
          firstFactor: new FirstFactor(settings, upstream),
          challenges: new ChallengeStore(),
          now: () => this.clock.now(),
        },
        this.log,
      );
      this.radiusParts = { server, udp: new RadiusUdp(server, this.log), upstream };
    } catch (e) {
      this.lock.release();
      this.lock = undefined;
      throw e;
    }
    const report = await this.boot();
    await this.startServices();
    return report;
  }

  /** `select(config)`, recomputed only after the config changed (BIRD reconfigure, VyOS get_config). */
  private derived<T>(select: (cfg: Readonly<RunningConfig>) => T): () => T {
    let cached: { value: T } | undefined;
    this.config.on('change', () => (cached = undefined));
    return () => (cached ??= { value: select(this.config.current) }).value;
  }

  /** The SMTP transport of the `mail` settings; throws when they are incomplete. */
  private mailer(): Mailer {
    const m = this.config.current.mail;
    if (!m.host || !m.from) throw new Error('mail from and mail smtpserver are not configured');
    return smtpMailer({ from: m.from, host: m.host, port: m.port, tls: m.tls, auth: m.auth });
  }

  /** `2fa email-template` from flash, read at send time; the built-in one otherwise. */
  private emailTemplate(): EmailTemplate {
    const name = this.config.current.twofa.emailTemplate;
    return name === undefined ? DEFAULT_TEMPLATE : parseTemplate(this.flash.read(name));
  }

  /** The RADIUS engine; exists once `start` has run. */
  get radius(): { server: RadiusServer; udp: RadiusUdp; upstream: UpstreamClient } {
    if (!this.radiusParts) throw new Error('the appliance is not started');
    return this.radiusParts;
  }

  /** Binds or closes the local RADIUS server's socket as the running config says. */
  applyRadius(): Promise<string | undefined> {
    const l = this.config.current.radius.local;
    return this.radius.udp.apply(l.enabled ? l.authPort : undefined);
  }

  /** Brings the network services in line with the running config (after every boot). */
  private async startServices(): Promise<void> {
    await this.ssh.apply();
    await this.applyRadius();
  }

  /** Closes every session, flushes and closes the user store, and releases the flash. */
  async stop(): Promise<void> {
    for (const { session } of [...this.sessions.values()]) session.close();
    await this.sshService?.stop();
    await this.radiusParts?.udp.stop();
    await this.twofaService?.close();
    this.twofaService = undefined;
    this.lock?.release();
    this.lock = undefined;
  }

  /** The running-config text (SPEC §3), or one named section of it. */
  renderRunning(section?: string): string {
    const chosen = section === undefined ? sections : sections.filter((s) => s.name === section);
    return assemble(this.config.current, chosen, { seal: (text) => this.secrets.seal(text) });
  }

  /** Checks a local account's password (console and SSH logins). */
  authenticate(user: string, password: string): LocalUser | undefined {
    const u = this.config.current.users.get(user);
    // Verify against a dummy hash for unknown users so timing does not tell which names exist.
    const ok = verifyPassword(password, u?.hash ?? DUMMY_HASH);
    return u && ok ? u : undefined;
  }

  /** Opens a CLI session; it leaves the registry when it closes. */
  openSession(o: OpenSessionOptions): Session<Services> {
    const id = this.nextSessionId++;
    const session: Session<Services> = new Session(
      {
        grammar: this.grammar,
        handlers,
        services: this.services,
        hostname: () => this.config.current.hostname,
        now: () => this.clock.now(),
        internalError: (error) =>
          this.log.error('internal-error', {
            session: id,
            message: error instanceof Error ? error.message : String(error),
            stack: error instanceof Error ? error.stack : undefined,
          }),
      },
      {
        id,
        source: o.source,
        user: o.user,
        userPrivilege: o.userPrivilege,
        enabled: o.enabled,
        terminalLength: o.terminalLength,
        echoesPrompt: o.echoesPrompt,
        onClose: () => this.sessions.delete(id),
      },
    );
    if (o.source !== 'file') this.sessions.set(id, { session, location: o.location });
    return session;
  }

  private sessionList(): SessionInfo[] {
    return [...this.sessions.values()].map(({ session, location }) => ({
      id: session.id,
      source: session.source,
      user: session.user,
      location,
      idleSince: session.lastActive,
    }));
  }

  private bootSettings(): BootSettings {
    const saved = this.readJson<BootSettings>(BOOT_FILE);
    return { configFile: saved && flashName(saved.configFile) ? saved.configFile : 'default.cfg' };
  }

  private readJson<T>(name: string): T | undefined {
    try {
      return JSON.parse(this.flash.read(name)) as T;
    } catch {
      return undefined;
    }
  }

  /** Factory defaults, then the startup config line by line (SPEC §3 boot config loading). */
  private async boot(): Promise<BootReport> {
    this.bootedAt = this.clock.now();
    const file = this.bootSettings().configFile;
    const report = await this.config.batch(async () => {
      this.config.reset();
      if (!this.flash.exists(file)) return { file, errors: [] };
      const session = this.openSession({ source: 'file', user: 'system', userPrivilege: 15, enabled: true, location: 'boot' });
      const errors = await runConfigScript(session, this.flash.read(file));
      session.close();
      return { file, errors };
    });
    for (const e of report.errors) this.log.info('boot-config-error', { file: `flash:/${file}`, line: e.line, error: e.message });
    this.log.info('booted', { file: `flash:/${file}`, errors: report.errors.length });
    return report;
  }

  /**
   * Restarts the appliance in place (`reboot`): every session ends, the config goes back to factory
   * defaults and the startup config is applied again. Resolves when the new boot is done.
   */
  async reboot(): Promise<BootReport> {
    this.emit('rebooting');
    for (const { session } of [...this.sessions.values()]) session.close();
    const report = await this.boot();
    await this.startServices();
    this.emit('rebooted', report);
    return report;
  }
}

/** A hash of nothing in particular, verified against for unknown users. */
const DUMMY_HASH = hashPassword('awplus-no-such-user');

/** Formats boot errors one line each (issue #2 item 7). */
export function formatBootReport(report: BootReport): string {
  return report.errors.map((e) => msg.bootError(`flash:/${report.file}`, e.line, e.text, e.message) + '\n').join('');
}
