/**
 * Real-peer helpers for the OpenVPN tests: stock `openvpn` 2.6 clients driven through a pty
 * (static challenge typed on the console, real-peers.md §3.3) or through their management
 * interface (CRV1, real-peers.md §3.6), a scripted login decision, and bookkeeping that stops
 * every process a test started, by PID, even when the test fails. Every wait has a bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { LoginDecision, LoginRequest } from '../../src/auth/types.ts';
import { peer } from '../helpers/peers.ts';
import { freePort as freeTcpPort, freeUdpPort } from '../helpers/ports.ts';
export { freeTcpPort, freeUdpPort };

/** Why the real-peer tests cannot run here, or undefined. */
export function realPeerSkipReason(): string | undefined {
  if (!existsSync('/dev/net/tun')) return 'skipped: /dev/net/tun is missing, so no OpenVPN server can run on this host';
  if (process.getuid?.() !== 0) return 'skipped: the OpenVPN server needs root for /dev/net/tun (CI runs as root)';
  return undefined;
}



/** Polls `check` every 100 ms until it returns a value, or throws after `ms`. */
export async function until<T>(what: string, ms: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes a test started; killAll() stops each by PID (SIGKILL) and waits, bounded. */
export class Processes {
  private readonly pids = new Set<number>();
  private readonly pidFiles = new Set<string>();

  add(pid: number | undefined): void {
    if (pid) this.pids.add(pid);
  }

  /** A process that writes its PID to `path` (openvpn --writepid): killed by that PID too. */
  addPidFile(path: string): void {
    this.pidFiles.add(path);
  }

  async killAll(): Promise<void> {
    for (const f of this.pidFiles) {
      try {
        this.add(Number(readFileSync(f, 'utf8').trim()));
      } catch {
        // never started
      }
    }
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await until('test processes to exit', 5000, () => [...this.pids].every((p) => !isAlive(p)) || undefined).catch(() => undefined);
    this.pids.clear();
  }
}

/** Output of a child, with bounded waits for a pattern. */
export class Output {
  text = '';
  constructor(readonly child: ChildProcess) {
    const add = (d: Buffer) => (this.text += d.toString('utf8').replace(/\r/g, ''));
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
  }

  waitFor(pattern: RegExp, ms: number, from = 0): Promise<RegExpMatchArray> {
    return until(`${pattern} in client output`, ms, () => this.text.slice(from).match(pattern) ?? undefined).catch((e: Error) => {
      throw new Error(`${e.message}\n--- output ---\n${this.text}`);
    });
  }
}

/** Options that keep a test client off the host's network: no device, no addresses, no routes. */
export const CLIENT_SANDBOX = ['--dev', 'null', '--ifconfig-noexec', '--route-noexec', '--disable-dco'];

/**
 * An `openvpn` client on a pty (util-linux `script`): the static challenge is read from the
 * terminal, so OpenVPN itself formats SCRV1 (real-peers.md §3.3). User name and password come from
 * a file; `code` is typed. openvpn runs under setpriv --pdeathsig so it dies with `script`, and
 * writes its PID for the kill.
 */
export function ptyClient(profilePath: string, credsPath: string, pidPath: string, code: string, procs: Processes): { child: ChildProcess; out: Output; pid: () => number | undefined } {
  const cmd = [peer('setpriv'), '--pdeathsig', 'SIGKILL', '--', peer('openvpn'), '--config', profilePath, ...CLIENT_SANDBOX, '--auth-user-pass', credsPath, '--writepid', pidPath].join(' ');
  const child = spawn(peer('script'), ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  procs.add(child.pid);
  procs.addPidFile(pidPath);
  // Typed ahead: the pty buffers it until openvpn asks (real-peers.md §3.3). stdin stays open.
  child.stdin!.write(`${code}\n`);
  const out = new Output(child);
  const pid = () => {
    try {
      const p = Number(readFileSync(pidPath, 'utf8').trim());
      procs.add(p);
      return p;
    } catch {
      return undefined;
    }
  };
  return { child, out, pid };
}

/**
 * A client driven through its own management interface (`--management … --management-query-
 * passwords --management-hold`), as a GUI does: answers the user name/password prompt, and a CRV1
 * challenge with `code` on the next prompt (management-notes.txt "Challenge/Response Protocol").
 * `code` may be a function, for a code that only exists once the challenge was issued (e-mail OTP).
 */
export class ManagedClient {
  readonly lines: string[] = [];
  challenges: string[] = [];
  /** Why a code function failed, if it did. */
  codeError: Error | undefined;
  private socket: Socket | undefined;
  private pending: Promise<string | undefined> | undefined;

  constructor(
    readonly port: number,
    private readonly user: string,
    private readonly password: string,
    private readonly code: string | (() => Promise<string>),
  ) {}

  static quote(s: string): string {
    return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  }

  /** Connects to the client's management port (retrying while openvpn starts). */
  async attach(ms = 10_000): Promise<void> {
    this.socket = await until('the client management port', ms, () =>
      new Promise<Socket | undefined>((resolve) => {
        const s = connect(this.port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      }),
    );
    const s = this.socket;
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        this.lines.push(line);
        this.onLine(line);
      }
    });
    s.write('state on\n');
  }

  private onLine(line: string): void {
    const s = this.socket!;
    const q = ManagedClient.quote;
    if (line.startsWith('>HOLD:')) s.write('hold release\n');
    let m: RegExpMatchArray | null;
    if (line.startsWith(">PASSWORD:Need 'Auth' username/password")) {
      // Answer a pending dynamic challenge on the next prompt (answering at once loops: real-peers.md §3.6).
      if (this.pending) {
        void this.pending.then((answer) => answer !== undefined && s.write(answer));
        this.pending = undefined;
      } else {
        s.write(`username "Auth" ${q(this.user)}\npassword "Auth" ${q(this.password)}\n`);
      }
    } else if ((m = line.match(/^>PASSWORD:Verification Failed: 'Auth' \['CRV1:([^:]*):([^:]*):([^:]*):(.*)'\]$/))) {
      this.challenges.push(line);
      const [state, user] = [m[2]!, Buffer.from(m[3]!, 'base64').toString()];
      this.pending = (typeof this.code === 'string' ? Promise.resolve(this.code) : this.code()).then(
        (code) => `username "Auth" ${q(user)}\npassword "Auth" ${q(`CRV1::${state}::${code}`)}\n`,
        (e: Error) => void (this.codeError = e),
      );
    }
  }

  connected(): boolean {
    return this.lines.some((l) => l.startsWith('>STATE:') && l.includes(',CONNECTED,SUCCESS'));
  }

  authFailed(): boolean {
    return this.lines.some((l) => l.startsWith('>PASSWORD:Verification Failed') && !l.includes('CRV1'));
  }

  close(): void {
    this.socket?.destroy();
  }
}

/**
 * A stock `openvpn` client with `profile` (a file), sandboxed (CLIENT_SANDBOX) and driven through its
 * management interface by a ManagedClient. `extra`: more client options (`--reneg-sec 5`).
 */
export async function managedClient(profilePath: string, user: string, password: string, code: string | (() => Promise<string>), procs: Processes, extra: readonly string[] = []) {
  const mport = await freeTcpPort();
  const child = spawn(
    peer('setpriv'),
    ['--pdeathsig', 'SIGKILL', '--', peer('openvpn'), '--config', profilePath, ...CLIENT_SANDBOX, ...extra, '--management', '127.0.0.1', String(mport), '--management-query-passwords', '--management-hold'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  procs.add(child.pid);
  const out = new Output(child);
  const driver = new ManagedClient(mport, user, password, code);
  await driver.attach();
  /** Waits until the client is connected; the error carries what the client saw. */
  const connected = (ms: number) =>
    until(`${user} connected`, ms, () => driver.connected() || undefined).catch((e: Error) => {
      throw new Error(`${e.message}\n${driver.codeError ? `code: ${driver.codeError.message}\n` : ''}${driver.lines.join('\n')}\n${out.text}`);
    });
  return { child, out, driver, connected };
}

/** A scripted login decision: knows users, codes and the challenges it issued; records requests. */
export class ScriptedLogin {
  readonly calls: LoginRequest[] = [];
  private readonly issued = new Map<string, string>();

  constructor(private readonly users: Record<string, { password: string; code: string }>) {}

  readonly login = async (r: LoginRequest): Promise<LoginDecision> => {
    this.calls.push(r);
    const u = this.users[r.user];
    if (!u) return { kind: 'reject', reason: 'unknown-user' };
    if (r.challenge) {
      const key = r.challenge.toString('base64');
      const forUser = this.issued.get(key);
      this.issued.delete(key);
      return forUser === r.user && r.password.toString() === u.code ? { kind: 'accept', reason: 'ok-challenge' } : { kind: 'reject', reason: 'bad-code' };
    }
    const pw = r.password.toString('latin1');
    const scrv1 = /^SCRV1:([^:]*):([^:]*)$/.exec(pw);
    if (scrv1) {
      const [p, c] = [Buffer.from(scrv1[1]!, 'base64').toString(), Buffer.from(scrv1[2]!, 'base64').toString()];
      if (p !== u.password) return { kind: 'reject', reason: 'bad-password' };
      return c === u.code ? { kind: 'accept', reason: 'ok-scrv1' } : { kind: 'reject', reason: 'bad-code', message: 'Wrong verification code' };
    }
    if (pw === u.password) {
      const token = randomBytes(12);
      this.issued.set(token.toString('base64'), r.user);
      return { kind: 'challenge', reason: 'challenge', token, prompt: 'Verification Code:' };
    }
    return { kind: 'reject', reason: 'bad-password' };
  };
}
