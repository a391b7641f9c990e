/**
 * The SSH server (issue #5): OpenSSH clients reach the same CLI as the console. Host keys (ed25519 and
 * ECDSA P-256) are made on first boot and kept in flash, so the fingerprint survives restarts.
 * Password (and keyboard-interactive) logins check the `username` table; each shell channel gets its
 * own session through the terminal adapter, each exec request runs one command.
 * The server follows the running config: `service ssh` / `ssh server port` (re)bind or close the
 * listener; existing sessions are never cut by a config change.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import ssh2, { type AuthContext, type Connection, type ServerChannel, type Session as SshSession } from 'ssh2';

// ssh2 is CommonJS: its named exports are not visible to ESM imports.
const { Server, utils } = ssh2;
type Server = InstanceType<typeof ssh2.Server>;
import type { App } from '../app.ts';
import type { SshConfig } from '../config/model.ts';
import type { SshControl, SshStatus } from '../features/services.ts';
import { runInteractive } from '../terminal/bind.ts';
import { LineEditor } from '../terminal/line-editor.ts';

/** Host key files in flash (dot-files: internal, not listed by `dir`). */
const HOST_KEYS = [
  { file: '.ssh_host_ed25519_key', type: 'ed25519' as const },
  { file: '.ssh_host_ecdsa_key', type: 'ecdsa' as const },
];

/** A failed password waits this long before the client hears "no" (slows guessing). */
const FAILURE_DELAY_MS = 1000;
/** Failures from one address within THROTTLE_WINDOW_MS after which it is refused for that long. */
const THROTTLE_FAILURES = 5;
const THROTTLE_WINDOW_MS = 60_000;


/**
 * A new host key in OpenSSH format. ssh2's ed25519 encoder now and then writes a key its own parser
 * rejects (measured: 10 in 3 000), so a key is only kept once it parses.
 */
function newHostKey(type: 'ed25519' | 'ecdsa'): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    const pair = type === 'ecdsa' ? utils.generateKeyPairSync('ecdsa', { bits: 256 }) : utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair.private;
  }
  throw new Error(`cannot generate an ${type} host key`);
}

/** `SHA256:…` as OpenSSH prints fingerprints (base64 of the SHA-256 of the public key blob, unpadded). */
function fingerprint(publicBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The SSH transport of one appliance. */
export class SshService implements SshControl {
  private server: Server | undefined;
  private boundPort: number | undefined;
  private lastError: string | undefined;
  private readonly hostKeys: { pem: string; type: string; fingerprint: string }[];
  private readonly failures = new Map<string, number[]>();
  private readonly channels = new Set<ServerChannel>();
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly app: App) {
    this.hostKeys = HOST_KEYS.map(({ file, type }) => {
      if (!app.flash.exists(file)) app.flash.write(file, newHostKey(type), 0o600);
      const pem = app.flash.read(file);
      const key = utils.parseKey(pem);
      if (key instanceof Error) throw new Error(`flash:/${file}: ${key.message}`);
      return { pem, type: key.type, fingerprint: fingerprint(key.getPublicSSH()) };
    });
  }

  status(): SshStatus {
    return {
      listening: this.server !== undefined,
      port: this.boundPort,
      error: this.lastError,
      sessions: this.channels.size,
      hostKeys: this.hostKeys.map(({ type, fingerprint }) => ({ type, fingerprint })),
    };
  }

  /**
   * Makes the listener match the config: bound on `port` while enabled, closed otherwise. Calls are
   * serialised; resolves to an error text when the port cannot be bound.
   */
  apply(cfg: Readonly<SshConfig> = this.app.config.current.ssh): Promise<string | undefined> {
    const run = this.applying.then(() => this.reconcile(cfg));
    this.applying = run.then(() => undefined);
    return run;
  }

  private async reconcile(cfg: Readonly<SshConfig>): Promise<string | undefined> {
    const want = cfg.enabled ? cfg.port : undefined;
    if (want === this.boundPort && (want === undefined || this.server)) return undefined;
    this.closeListener();
    this.lastError = undefined;
    if (want === undefined) return undefined;
    const server = new Server({ hostKeys: this.hostKeys.map((k) => k.pem), ident: 'awplus-2fa' }, (client, info) => this.connection(client, info.ip));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(want, '0.0.0.0', () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.lastError = `${(e as NodeJS.ErrnoException).code ?? (e as Error).message} on port ${want}`;
      this.app.log.error('ssh-listen-failed', { port: want, error: this.lastError });
      return this.lastError;
    }
    server.on('error', (e: Error) => this.app.log.error('ssh-server-error', { message: e.message }));
    this.server = server;
    this.boundPort = want;
    this.app.log.info('ssh-listening', { port: want });
    return undefined;
  }

  private closeListener(): void {
    const server = this.server;
    this.server = undefined;
    this.boundPort = undefined;
    // close() stops accepting at once; established connections carry on (issue #5: "not existing
    // sessions"). Its callback waits for them all to end, so it is not awaited.
    server?.close();
  }

  /** Stops listening and ends every SSH session (appliance shutdown). */
  async stop(): Promise<void> {
    await this.applying;
    this.closeListener();
    for (const ch of this.channels) ch.end();
  }

  private throttled(ip: string, now: number): boolean {
    const recent = (this.failures.get(ip) ?? []).filter((t) => t > now - THROTTLE_WINDOW_MS);
    this.failures.set(ip, recent);
    return recent.length >= THROTTLE_FAILURES;
  }

  private connection(client: Connection, ip: string): void {
    let user: { name: string; privilege: number } | undefined;
    client.on('authentication', (ctx) =>
      this.authenticate(ctx, ip).then(
        (u) => (user = u),
        // A client gone mid-login must not take the daemon down with an unhandled rejection.
        (e: unknown) => this.app.log.info('ssh-connection-error', { address: ip, message: (e as Error).message }),
      ),
    );
    client.on('ready', () => {
      client.on('session', (accept) => this.session(accept(), user!, ip));
    });
    client.on('error', (e) => this.app.log.info('ssh-connection-error', { address: ip, message: e.message }));
  }

  /** Password or keyboard-interactive against the local users; a delay and a log line on failure. */
  private async authenticate(ctx: AuthContext, ip: string): Promise<{ name: string; privilege: number } | undefined> {
    if (ctx.method !== 'password' && ctx.method !== 'keyboard-interactive') {
      ctx.reject(['password', 'keyboard-interactive']);
      return undefined;
    }
    const password =
      ctx.method === 'password'
        ? ctx.password
        : await new Promise<string | undefined>((resolve) => ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => resolve(answers[0])));
    const cfg = this.app.config.current.ssh;
    const now = performance.now();
    const allowed = cfg.allowUsers.length === 0 || cfg.allowUsers.includes(ctx.username);
    const throttled = this.throttled(ip, now);
    const account = password !== undefined && !throttled ? this.app.authenticate(ctx.username, password) : undefined;
    if (account && allowed) {
      this.app.log.info('login', { user: account.name, via: 'ssh', address: ip });
      ctx.accept();
      return { name: account.name, privilege: account.privilege };
    }
    this.failures.get(ip)!.push(now);
    const reason = throttled ? 'throttled' : !account ? 'bad-password' : 'not-allowed';
    this.app.log.info('login-failed', { user: ctx.username, via: 'ssh', address: ip, reason });
    await new Promise((r) => setTimeout(r, FAILURE_DELAY_MS));
    ctx.reject(['password', 'keyboard-interactive']);
    return undefined;
  }

  private session(ssh: SshSession, user: { name: string; privilege: number }, ip: string): void {
    let pty = { cols: 80, rows: 24 };
    ssh.on('pty', (accept, _reject, info) => {
      // OpenSSH under expect/sshpass sends 0x0: fall back to 80x24 (real-peers.md §8).
      pty = { cols: info.cols || 80, rows: info.rows || 24 };
      accept?.();
    });
    let resize: ((cols: number, rows: number) => void) | undefined;
    ssh.on('window-change', (accept, _reject, info) => {
      accept?.();
      resize?.(info.cols || 80, info.rows || 24);
    });
    ssh.on('shell', (accept) => {
      const channel = accept();
      this.channels.add(channel);
      const session = this.openCliSession(user, ip, pty.rows);
      session.setWindow(pty.cols, pty.rows);
      const ed = new LineEditor({ input: channel, output: channel, columns: pty.cols, rows: pty.rows });
      resize = (cols, rows) => {
        ed.setSize(cols, rows);
        session.setWindow(cols, rows);
      };
      const idle = this.idleTimer(() => {
        ed.write('\n% Session closed: idle for longer than exec-timeout\n');
        session.close();
      });
      channel.on('data', idle.reset);
      channel.on('close', () => session.close());
      void runInteractive(ed, session)
        .catch((e: unknown) => this.app.log.error('ssh-session-error', { address: ip, message: (e as Error).message }))
        .finally(() => {
          idle.stop();
          ed.close();
          session.close();
          this.channels.delete(channel);
          channel.exit(0);
          channel.end();
        });
    });
    ssh.on('exec', (accept, _reject, info) => {
      const channel = accept();
      this.channels.add(channel);
      const session = this.openCliSession(user, ip, 0, false);
      void session
        .execute(info.command)
        .then((r) => {
          channel.write(r.output);
          channel.exit(r.ok ? 0 : 1);
        })
        .catch(() => channel.exit(1))
        .finally(() => {
          session.close();
          this.channels.delete(channel);
          channel.end();
        });
    });
  }

  /** Privilege-15 users start at `#`, others at `>` (issue #5). */
  private openCliSession(user: { name: string; privilege: number }, ip: string, rows: number, echoesPrompt = true) {
    return this.app.openSession({
      source: 'ssh',
      user: user.name,
      userPrivilege: user.privilege,
      enabled: user.privilege >= 15,
      location: ip,
      terminalLength: rows,
      echoesPrompt,
    });
  }

  /** Fires `onIdle` after `exec-timeout` minutes without input (0 = never); `reset` on every keystroke. */
  private idleTimer(onIdle: () => void): { reset: () => void; stop: () => void } {
    let timer: NodeJS.Timeout | undefined;
    const reset = () => {
      if (timer) clearTimeout(timer);
      const minutes = this.app.config.current.execTimeout;
      timer = minutes > 0 ? setTimeout(onIdle, minutes * 60_000) : undefined;
      timer?.unref();
    };
    reset();
    return { reset, stop: () => timer && clearTimeout(timer) };
  }
}
