/**
 * The real daemon for the fuzz and fault runs: `node bin/awplus.mjs --daemon` on a flash directory,
 * its output kept, its memory read from /proc, its errors collected, CLI commands through `connect`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { awplusArgv, daemonReady, runAwplus } from '../test/helpers/process.ts';

export class FuzzDaemon {
  output = '';
  /** Lines of the daemon's log at level error, and anything on stderr that is not a JSON log line. */
  readonly errors: string[] = [];
  private partial = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly flash: string,
  ) {
    child.stdout.on('data', (d: Buffer) => (this.output += d));
    child.stderr.on('data', (d: Buffer) => this.stderr(d.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  private stderr(text: string): void {
    this.output += text;
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      if (line === '') continue;
      let level: unknown;
      try {
        level = (JSON.parse(line) as { level?: unknown }).level;
      } catch {
        // Not a log line: boot errors are `% …`; anything else (a stack trace) is a defect.
        if (!line.startsWith('% ')) this.errors.push(line);
        continue;
      }
      if (level === 'error') this.errors.push(line);
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the daemon and waits for `ready`; resolves with it and the time it took. */
  static async start(flash: string, o: { timeoutMs?: number; nodeArgs?: readonly string[] } = {}): Promise<{ daemon: FuzzDaemon; readyMs: number }> {
    const timeoutMs = o.timeoutMs ?? 30000;
    const t = performance.now();
    const d = new FuzzDaemon(spawn(process.execPath, awplusArgv(['--daemon', '--flash', flash], o.nodeArgs), { stdio: ['pipe', 'pipe', 'pipe'] }), flash);
    await daemonReady(d.child, () => d.output, timeoutMs);
    return { daemon: d, readyMs: performance.now() - t };
  }

  /** Resident and peak memory of the daemon, from /proc (kB). */
  memory(): { rssKb: number; peakKb: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), peakKb: kb('VmHWM') };
  }

  /** Runs CLI lines on the daemon (`awplus connect`, script mode). */
  async cli(...lines: string[]): Promise<string> {
    const r = await runAwplus(['connect', '--flash', this.flash], lines.join('\n') + '\n', 60000);
    return r.stdout + r.stderr;
  }

  /** SIGTERM, then SIGKILL after `ms`. */
  async stop(ms = 10000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9, as a power cut would. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
