/**
 * Real peer daemons for the tests (chronyd, rsyslogd): each runs in the foreground with its own config
 * in a temporary directory, on a free loopback port, is waited for with a bound, and is stopped by its
 * PID, also when the test fails or the test process exits early.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free UDP port on the loopback addresses (IPv4 and IPv6 both free, as the daemons bind both). */
export async function freeUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const s4 = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      s4.once('error', reject);
      s4.bind(0, '127.0.0.1', () => resolve(s4.address().port));
    });
    const s6 = createSocket('udp6');
    const ok = await new Promise<boolean>((resolve) => {
      s6.once('error', () => resolve(false));
      s6.bind(port, '::1', () => resolve(true));
    });
    await Promise.all([new Promise<void>((r) => s4.close(() => r())), ok ? new Promise<void>((r) => s6.close(() => r())) : Promise.resolve()]);
    if (ok) return port;
  }
  throw new Error('no free UDP port on 127.0.0.1 and ::1');
}

/** Every daemon still running when the test process exits is killed (a failed test never leaks one). */
const running = new Set<ChildProcess>();
const killAll = () => {
  for (const c of running) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
};
process.on('exit', killAll);
// A test run cut short by a signal (a runner timeout, ^C) does not run 'exit' handlers: kill, then die of it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

/** A daemon process with its temporary directory. */
export class Daemon {
  output = '';
  private constructor(
    readonly child: ChildProcess,
    readonly dir: string,
  ) {
    child.stdout?.on('data', (d) => (this.output += d));
    child.stderr?.on('data', (d) => (this.output += d));
    running.add(child);
    child.on('exit', () => running.delete(child));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Makes a temporary directory; `spawn` runs the binary there. Fails at once when the binary is missing. */
  static tempDir(binary: string, debianPackage: string, prefix: string): string {
    if (!existsSync(binary)) throw new Error(`${binary} not found: install the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`);
    return mkdtempSync(join(tmpdir(), prefix));
  }

  static spawn(binary: string, args: string[], dir: string): Daemon {
    return new Daemon(spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), dir);
  }

  /** Polls `ready` every 50 ms until it holds; throws (after stopping the daemon) past `timeoutMs`. */
  async waitUntil(what: string, ready: () => Promise<boolean> | boolean, timeoutMs = 10000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        await this.stop();
        throw new Error(`${what}: the daemon exited (${this.child.exitCode ?? this.child.signalCode}); output:\n${this.output}`);
      }
      if (await ready()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop();
    throw new Error(`${what}: not ready after ${timeoutMs} ms; output:\n${this.output}`);
  }

  /** SIGTERM by PID, SIGKILL after 3 s; removes the directory. Safe to call twice. */
  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      process.kill(c.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
      }, 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
