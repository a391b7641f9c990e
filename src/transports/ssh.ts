/**
 * The SSH server (issue #5): OpenSSH clients reach the same CLI as the console. Host keys (ed25519 and
 * ECDSA P-256) are made on first boot and kept in flash, so the fingerprint survives restarts.
 * Password (and keyboard-interactive) logins check the `username` table; each shell channel gets its
 * own session through the terminal adapter, each exec request runs one command.
 * The server follows the running config: `service ssh` / `ssh server port` (re)bind or close the
 * listener; existing sessions are never cut by a config change.
 */
import { createHash } from 'node:crypto';
import ssh2, { type AuthContext, type Connection, type ServerChannel, type Session as SshSession } from 'ssh2';
import { msg } from '../cli/messages.ts';
import { runInteractive } from '../terminal/bind.ts';
import { idleTimer } from '../terminal/idle.ts';
import { LineEditor } from '../terminal/line-editor.ts';
import type { Flash } from '../util/flash.ts';
import { Listener, type ListenerStatus } from '../util/listener.ts';
import type { CliHost } from './cli-host.ts';

// ssh2 is CommonJS: its named exports are not visible to ESM imports.
const { Server, utils } = ssh2;
type Server = InstanceType<typeof ssh2.Server>;

/** Host key files in flash (dot-files: internal, not listed by `dir`). */
const HOST_KEYS = [
  { file: '.ssh_host_ed25519_key', type: 'ed25519' as const },
  { file: '.ssh_host_ecdsa_key', type: 'ecdsa' as const },
];

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

/** What SSH reads of the running config. */
export interface SshSettings {
  readonly enabled: boolean;
  readonly port: number;
  /** Empty: every local user may log in. */
  readonly allowUsers: readonly string[];
}

/** What the SSH transport needs of the appliance. */
export interface SshHost extends CliHost {
  readonly flash: Flash;
  sshSettings(): SshSettings;
}

/** What `show ssh server` reports. */
export interface SshStatus extends ListenerStatus {
  readonly sessions: number;
  readonly hostKeys: readonly { type: string; fingerprint: string }[];
}

/** The SSH transport of one appliance. */
export class SshServer {
  private readonly hostKeys: { pem: string; type: string; fingerprint: string }[];
  private readonly channels = new Set<ServerChannel>();
  readonly listener: Listener<Server>;

  constructor(private readonly host: SshHost) {
    this.hostKeys = HOST_KEYS.map(({ file, type }) => {
      if (!host.flash.exists(file)) host.flash.write(file, newHostKey(type), 0o600);
      const pem = host.flash.read(file);
      const key = utils.parseKey(pem);
      if (key instanceof Error) throw new Error(`flash:/${file}: ${key.message}`);
      return { pem, type: key.type, fingerprint: fingerprint(key.getPublicSSH()) };
    });
    this.listener = new Listener<Server>(
      {
        name: 'ssh',
        open: async ({ port, host }) => {
          const server = new Server({ hostKeys: this.hostKeys.map((k) => k.pem), ident: 'awplus-2fa' }, (client, info) => this.connection(client, info.ip));
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(port, host, () => {
              server.off('error', reject);
              resolve();
            });
          });
          server.on('error', (e: Error) => this.host.log.error('ssh-server-error', { message: e.message }));
          return server;
        },
        // close() stops accepting at once; established connections carry on (issue #5: "not existing
        // sessions"). Its callback waits for them all to end, so it is not awaited.
        close: (server) => void server.close(),
      },
      host.log,
    );
  }

  status(): SshStatus {
    return {
      ...this.listener.status(),
      sessions: this.channels.size,
      hostKeys: this.hostKeys.map(({ type, fingerprint }) => ({ type, fingerprint })),
    };
  }

  /** Listens on `ssh server port` while `service ssh`, closed otherwise; an error text if the port cannot be bound. */
  apply(): Promise<string | undefined> {
    const s = this.host.sshSettings();
    return this.listener.apply(s.enabled ? { port: s.port } : undefined);
  }

  /** Stops listening and ends every SSH session (appliance shutdown). */
  async stop(): Promise<void> {
    await this.listener.stop();
    for (const ch of this.channels) ch.end();
  }

  private connection(client: Connection, ip: string): void {
    let user: { name: string; privilege: number } | undefined;
    client.on('authentication', (ctx) =>
      this.authenticate(ctx, ip).then(
        (u) => (user = u),
        // A client gone mid-login must not take the daemon down with an unhandled rejection.
        (e: unknown) => this.host.log.info('ssh-connection-error', { address: ip, message: (e as Error).message }),
      ),
    );
    client.on('ready', () => {
      client.on('session', (accept) => this.session(accept(), user!, ip));
    });
    client.on('error', (e) => this.host.log.info('ssh-connection-error', { address: ip, message: e.message }));
  }

  /** Password or keyboard-interactive against the local accounts. */
  private async authenticate(ctx: AuthContext, ip: string): Promise<{ name: string; privilege: number } | undefined> {
    if (ctx.method !== 'password' && ctx.method !== 'keyboard-interactive') {
      ctx.reject(['password', 'keyboard-interactive']);
      return undefined;
    }
    const password =
      ctx.method === 'password'
        ? ctx.password
        : await new Promise<string | undefined>((resolve) => ctx.prompt([{ prompt: msg.passwordPrompt, echo: false }], (answers) => resolve(answers[0])));
    const allowUsers = this.host.sshSettings().allowUsers;
    const account = await this.host.login({
      user: ctx.username,
      password: password ?? '',
      via: 'ssh',
      address: ip,
      allowed: (name) => allowUsers.length === 0 || allowUsers.includes(name),
    });
    if (!account) {
      ctx.reject(['password', 'keyboard-interactive']);
      return undefined;
    }
    ctx.accept();
    return { name: account.name, privilege: account.privilege };
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
      const idle = idleTimer(() => this.host.idleSeconds('ssh'), () => {
        ed.write(`\n${msg.idleTimeout}\n`);
        session.close();
      });
      channel.on('data', idle.reset);
      channel.on('close', () => session.close());
      void runInteractive(ed, session)
        .catch((e: unknown) => this.host.log.error('ssh-session-error', { address: ip, message: (e as Error).message }))
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
    return this.host.openSession({
      source: 'ssh',
      user: user.name,
      userPrivilege: user.privilege,
      enabled: user.privilege >= 15,
      location: ip,
      terminalLength: rows,
      echoesPrompt,
    });
  }
}
