/**
 * One tunnel's OpenVPN child: write its config, start it, connect to its management interface,
 * answer its logins, notice its death and start it again with backoff (1 s doubling to 30 s by
 * default), and stop it (SIGTERM, then SIGKILL after a bound). The supervisor owns one per tunnel.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import { AuthBridge, answerCommand, type LoginFunction, type LoginSettings } from './auth-bridge.ts';
import { ManagementClient } from './management.ts';
import type { ClientEvent } from './management-protocol.ts';
import { privateDir, writePrivate, type PkiFiles } from './pki.ts';
import { generateTokenSecret, preflight, spawnOpenvpn, type OpenvpnChild, type PreflightOptions } from './process.ts';
import { serverConfig } from './server-config.ts';
import type { TunnelSettings } from './settings.ts';

/** What a tunnel is doing. */
export type TunnelState =
  /** Not running on purpose (shutdown, no address, removed, appliance stopping). */
  | 'down'
  /** Child started, waiting for it to be ready. */
  | 'starting'
  /** Serving clients. */
  | 'up'
  /** The child died or failed to start; the next attempt is scheduled. */
  | 'restarting'
  /** Cannot run on this host (no openvpn, no /dev/net/tun): not retried until applied again. */
  | 'failed';

export interface TunnelStatus {
  readonly name: string;
  readonly state: TunnelState;
  /** Why it is down, restarting or failed. */
  readonly reason?: string;
  readonly pid?: number;
  readonly device?: string;
  readonly managementPort?: number;
  /** Appliance time (ms) the current child became ready. */
  readonly upSince?: number;
  /** Times the child was started again after dying. */
  readonly restarts: number;
  /** The newest lines the child printed (diagnostics; OpenVPN never prints passwords). */
  readonly output: readonly string[];
  readonly settings: TunnelSettings;
}

/** What every runner shares (resolved supervisor options). */
export interface RunnerContext extends PreflightOptions {
  readonly dir: string;
  readonly log: Log;
  readonly clock: Clock;
  readonly login: LoginFunction;
  readonly loginSettings: (tunnel: string) => LoginSettings;
  readonly listenAddress?: string;
  readonly configureHost: boolean;
  readonly deviceName: (t: TunnelSettings) => string;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly stopTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly pki: () => Promise<PkiFiles>;
}

const READY = 'Initialization Sequence Completed';
const OUTPUT_LINES = 40;

/** A free TCP port on 127.0.0.1 (the kernel's pick; a race with another program only costs a restart). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Aborted when `child` has exited (at once if it already has). */
function exitSignal(child: OpenvpnChild): AbortSignal {
  const gone = new AbortController();
  if (child.exitCode !== null || child.signalCode !== null) gone.abort('openvpn exited');
  else child.once('exit', () => gone.abort('openvpn exited'));
  return gone.signal;
}

export class TunnelRunner {
  settings: TunnelSettings;
  readonly bridge: AuthBridge;
  private state: TunnelState = 'down';
  private reason: string | undefined = 'not started';
  private child: OpenvpnChild | undefined;
  private mgmt: ManagementClient | undefined;
  private managementPort: number | undefined;
  private managementPassword = '';
  /** Whether this runner made its session-token secret yet (once per runner, see launch). */
  private tokenSecretMade = false;
  private device: string | undefined;
  private upSince: number | undefined;
  /** Monotonic time the child became ready, for the backoff reset. */
  private upAt = 0;
  private restarts = 0;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every start and stop: work of an older generation stops where it is. */
  private generation = 0;
  private readonly output: string[] = [];
  private readonly outputWaiters = new Set<(line: string) => void>();

  constructor(
    settings: TunnelSettings,
    private readonly ctx: RunnerContext,
  ) {
    this.settings = settings;
    this.delayMs = ctx.backoff.initialMs;
    this.bridge = new AuthBridge({ tunnel: settings.name, login: ctx.login, settings: ctx.loginSettings, log: ctx.log, clock: ctx.clock });
  }

  status(): TunnelStatus {
    return {
      name: this.settings.name,
      state: this.state,
      ...(this.reason !== undefined && this.state !== 'up' ? { reason: this.reason } : {}),
      ...(this.child?.pid !== undefined ? { pid: this.child.pid } : {}),
      ...(this.device !== undefined && this.child ? { device: this.device } : {}),
      ...(this.managementPort !== undefined && this.child ? { managementPort: this.managementPort } : {}),
      ...(this.upSince !== undefined && this.state === 'up' ? { upSince: this.upSince } : {}),
      restarts: this.restarts,
      output: [...this.output],
      settings: this.settings,
    };
  }

  /** The management connection while the tunnel is up. */
  management(): ManagementClient | undefined {
    return this.state === 'up' && this.mgmt?.isOpen ? this.mgmt : undefined;
  }

  /** Starts the child (if not running); resolves when it is up or this attempt failed. */
  async start(): Promise<void> {
    if (this.child || this.state === 'starting') return;
    clearTimeout(this.timer);
    this.delayMs = this.ctx.backoff.initialMs;
    await this.launch(++this.generation);
  }

  /** Stops the child: SIGTERM, SIGKILL after stopTimeoutMs; resolves when it has exited. */
  async stop(reason: string): Promise<void> {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.state = 'down';
    this.reason = reason;
    const child = this.child;
    if (!child) return;
    this.ctx.log.info('openvpn-stop', { tunnel: this.settings.name, pid: child.pid, reason });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // openvpn(8) SIGNALS: SIGTERM exits cleanly (and with explicit-exit-notify tells UDP clients).
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      this.ctx.log.error('openvpn-stop-timeout', { tunnel: this.settings.name, pid: child.pid, afterMs: this.ctx.stopTimeoutMs });
      child.kill('SIGKILL');
    }, this.ctx.stopTimeoutMs);
    // SIGKILL cannot be refused; the second bound only guards against a process stuck in the kernel.
    const given = new Promise<'stuck'>((r) => setTimeout(() => r('stuck'), this.ctx.stopTimeoutMs + 5000).unref());
    if ((await Promise.race([exited, given])) === 'stuck') {
      this.ctx.log.error('openvpn-stop-stuck', { tunnel: this.settings.name, pid: child.pid });
    }
    clearTimeout(killer);
  }

  private async launch(gen: number): Promise<void> {
    const name = this.settings.name;
    const bins = preflight(this.ctx);
    if (typeof bins === 'string') {
      this.state = 'failed';
      this.reason = bins;
      this.ctx.log.error('openvpn-unavailable', { tunnel: name, error: bins });
      return;
    }
    this.state = 'starting';
    this.reason = undefined;
    let child: OpenvpnChild | undefined;
    try {
      const pki = await this.ctx.pki();
      const dir = join(this.ctx.dir, name);
      privateDir(dir);
      // The auth-gen-token HMAC secret: one per tunnel, so a token from one tunnel is no key to
      // another with other login settings; made when this runner first starts and kept across
      // restarts of its child, so clients come back with their tokens after a restart, while a
      // tunnel created again, or an appliance restart (which forgets cleared sessions), makes
      // every older token invalid.
      const tokenSecretPath = join(dir, 'auth-token.key');
      if (!this.tokenSecretMade) {
        await generateTokenSecret(bins, tokenSecretPath);
        this.tokenSecretMade = true;
      }
      const port = await freePort();
      if (gen !== this.generation) return;
      const password = randomBytes(24).toString('hex');
      const passwordFile = join(dir, 'management.pw');
      writePrivate(passwordFile, `${password}\n`);
      const configPath = join(dir, 'server.conf');
      this.device = this.ctx.deviceName(this.settings);
      writePrivate(
        configPath,
        serverConfig(this.settings, {
          device: this.device,
          managementPort: port,
          managementPasswordFile: passwordFile,
          caPath: pki.caPath,
          certPath: pki.certPath,
          keyPath: pki.keyPath,
          tokenSecretPath,
          statusPath: join(dir, 'status.log'),
          configureHost: this.ctx.configureHost,
          ...(this.ctx.listenAddress ? { listenAddress: this.ctx.listenAddress } : {}),
        }),
      );
      this.output.length = 0;
      child = spawnOpenvpn(bins, ['--config', configPath], dir);
      this.child = child;
      this.managementPort = port;
      this.managementPassword = password;
      this.watch(child, gen);
      const ready = this.waitForOutput(READY, this.ctx.startTimeoutMs);
      ready.catch(() => undefined);
      this.ctx.log.info('openvpn-start', { tunnel: name, pid: child.pid, device: this.device });
      // Stop trying as soon as the child is gone (a bad option makes it exit at once).
      const mgmt = await ManagementClient.connect({ port, password, timeoutMs: this.ctx.startTimeoutMs, signal: exitSignal(child), ...this.listeners(child) });
      if (gen !== this.generation || this.child !== child) {
        mgmt.close();
        return;
      }
      this.attach(mgmt, child);
      // management-hold: OpenVPN opens the device and the port only now (openvpn(8)).
      await mgmt.command('hold release');
      await ready;
      if (gen !== this.generation || this.child !== child) return;
      this.state = 'up';
      this.upSince = this.ctx.clock.now();
      this.upAt = performance.now();
      this.ctx.log.info('openvpn-up', { tunnel: name, pid: child.pid, port: this.settings.port, protocol: this.settings.protocol });
    } catch (e) {
      if (gen !== this.generation) return;
      const why = (e as Error).message;
      this.reason = why;
      this.ctx.log.error('openvpn-start-failed', { tunnel: name, error: why, output: this.output.slice(-5) });
      // Once a child was spawned its exit handler schedules the next attempt.
      if (!child) this.scheduleRestart(gen);
      else if (this.child === child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  /** Collects the child's output and reacts to its exit. */
  private watch(child: OpenvpnChild, gen: number): void {
    const onData = (stream: 'stdout' | 'stderr') => {
      let pending = '';
      return (d: Buffer) => {
        pending += d.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const raw of lines) {
          const line = raw.replace(/\r$/, '');
          this.output.push(stream === 'stderr' ? `stderr: ${line}` : line);
          if (this.output.length > OUTPUT_LINES) this.output.shift();
          for (const w of [...this.outputWaiters]) w(line);
        }
      };
    };
    child.stdout.on('data', onData('stdout'));
    child.stderr.on('data', onData('stderr'));
    child.once('error', (e) => {
      // spawn itself failed (ENOENT after the preflight, EACCES): no exit event follows.
      if (this.child !== child) return;
      this.child = undefined;
      this.reason = e.message;
      this.ctx.log.error('openvpn-spawn-failed', { tunnel: this.settings.name, error: e.message });
      if (gen === this.generation) this.scheduleRestart(gen);
    });
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.mgmt?.close();
      this.mgmt = undefined;
      this.bridge.reset();
      for (const w of [...this.outputWaiters]) w('');
      if (gen !== this.generation) return; // stopped on purpose
      const why = `openvpn exited (${signal ?? `code ${code}`})`;
      this.reason = why;
      this.ctx.log.error('openvpn-exit', { tunnel: this.settings.name, pid: child.pid, code, signal, output: this.output.slice(-5) });
      // A child that served for longer than the longest backoff was healthy: start over at 1 s.
      if (this.state === 'up' && performance.now() - this.upAt >= this.ctx.backoff.maxMs) this.delayMs = this.ctx.backoff.initialMs;
      this.scheduleRestart(gen);
    });
  }

  private scheduleRestart(gen: number): void {
    if (gen !== this.generation) return;
    clearTimeout(this.timer);
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.ctx.backoff.maxMs);
    this.state = 'restarting';
    this.ctx.log.info('openvpn-restart-scheduled', { tunnel: this.settings.name, inMs: delay });
    this.timer = setTimeout(() => {
      if (gen !== this.generation) return;
      this.restarts++;
      const next = ++this.generation;
      void this.launch(next);
    }, delay);
  }

  /** Resolves when the child prints a line containing `text`; rejects on exit or after `ms`. */
  private waitForOutput(text: string, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (ok: boolean, why?: string) => {
        clearTimeout(timer);
        this.outputWaiters.delete(waiter);
        if (ok) resolve();
        else reject(new Error(why));
      };
      const waiter = (line: string) => {
        if (line.includes(text)) done(true);
        else if (!this.child) done(false, `openvpn exited before "${text}": ${this.output.slice(-3).join(' | ')}`);
      };
      const timer = setTimeout(() => done(false, `openvpn did not print "${text}" within ${ms} ms`), ms);
      this.outputWaiters.add(waiter);
      if (this.output.some((l) => l.includes(text))) done(true);
    });
  }

  /** Listeners of a management connection to `child`: logins go to the bridge. */
  private listeners(child: OpenvpnChild): { onClient: (e: ClientEvent) => void; onNotice: (line: string) => void } {
    return {
      onClient: (e) => this.onClient(e, child),
      onNotice: (line) => {
        if (line.startsWith('>FATAL:')) this.ctx.log.error('openvpn-fatal', { tunnel: this.settings.name, message: line.slice(7) });
      },
    };
  }

  /** Makes `mgmt` the connection to `child`, and reconnects when it drops while the child lives. */
  private attach(mgmt: ManagementClient, child: OpenvpnChild): void {
    this.mgmt = mgmt;
    mgmt.onClose(() => {
      if (this.mgmt === mgmt) this.mgmt = undefined;
      // Not when the child is being stopped (stop() sets 'down' before SIGTERM): it is going away.
      if (this.child === child && this.state !== 'down') void this.reconnect(child);
    });
  }

  /** The management connection dropped but the child lives: connect again (it accepts one client). */
  private async reconnect(child: OpenvpnChild): Promise<void> {
    const port = this.managementPort!;
    const password = this.managementPassword;
    const signal = exitSignal(child);
    while (this.child === child) {
      try {
        const mgmt = await ManagementClient.connect({ port, password, timeoutMs: 5000, signal, ...this.listeners(child) });
        if (this.child !== child) {
          mgmt.close();
          return;
        }
        this.ctx.log.info('openvpn-management-reconnected', { tunnel: this.settings.name });
        this.attach(mgmt, child);
        return;
      } catch (e) {
        // The child exited meanwhile: its exit is logged and handled on its own.
        if (this.child !== child) return;
        this.ctx.log.error('openvpn-management-lost', { tunnel: this.settings.name, error: (e as Error).message });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private onClient(e: ClientEvent, child: OpenvpnChild): void {
    const name = this.settings.name;
    if (e.kind === 'CONNECT' || e.kind === 'REAUTH') {
      void this.bridge.judge(e).then(async (answer) => {
        // Client ids belong to the server process that asked; any management connection to it
        // (also one made again after a drop) can answer.
        const mgmt = this.mgmt;
        if (this.child !== child || !mgmt?.isOpen) return;
        const lines = answerCommand(e.cid, e.kid ?? 0, answer);
        try {
          await (lines.length === 1 ? mgmt.command(lines[0]!) : mgmt.block(lines));
        } catch (err) {
          // The client left meanwhile ("ERROR: client-auth command failed"): nothing to undo.
          this.ctx.log.info('openvpn-answer-failed', { tunnel: name, cid: e.cid, error: (err as Error).message });
        }
      });
      return;
    }
    this.bridge.observe(e);
    if (e.kind === 'ESTABLISHED') {
      this.ctx.log.info('openvpn-connected', {
        tunnel: name,
        user: e.env.get('common_name') ?? e.env.get('username') ?? '',
        from: `${e.env.get('trusted_ip') ?? '?'}:${e.env.get('trusted_port') ?? '?'}`,
        address: e.env.get('ifconfig_pool_remote_ip') ?? '',
        cid: e.cid,
      });
    } else if (e.kind === 'DISCONNECT' && e.env.has('common_name')) {
      this.ctx.log.info('openvpn-disconnected', {
        tunnel: name,
        user: e.env.get('common_name'),
        cid: e.cid,
        seconds: Number(e.env.get('time_duration') ?? 0),
        bytesIn: Number(e.env.get('bytes_received') ?? 0),
        bytesOut: Number(e.env.get('bytes_sent') ?? 0),
      });
    }
  }
}
