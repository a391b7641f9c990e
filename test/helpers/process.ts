/**
 * Runs the real `awplus` command line in child processes, with bounded waits (no test can hang).
 */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';

const BIN = new URL('../../bin/awplus.mjs', import.meta.url).pathname;
/** The Node options after `node` on bin/awplus.mjs's `#!/usr/bin/env -S node …` line. */
const SHEBANG_OPTIONS = ((words: string[]) => words.slice(words.indexOf('node') + 1))(readFileSync(BIN, 'utf8').split('\n', 1)[0]!.split(/\s+/));

/**
 * The arguments after `node` (process.execPath) for `awplus ARGS` as `npx awplus` runs it: the Node
 * options of bin/awplus.mjs's `#!` line, `nodeOptions` (a heap cap for the fuzz runs), the script.
 */
export function awplusArgv(args: readonly string[], nodeOptions: readonly string[] = []): string[] {
  return [...SHEBANG_OPTIONS, ...nodeOptions, BIN, ...args];
}

/** Runs `awplus ARGS` to completion with `input` on stdin (not a TTY: script mode). */
export function runAwplus(args: string[], input: string, timeoutMs = 20000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, awplusArgv(args), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`awplus ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Output collected from a running child, with a bounded wait for a pattern. */
export class Watched {
  /** Everything the child printed, terminal control sequences removed. */
  out = '';
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    const add = (d: Buffer) => (this.out += d.toString('utf8').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r+\n/g, '\n'));
    child.stdout.on('data', add);
    child.stderr.on('data', add);
  }

  /** Resolves when the output matches `pattern` (checked from `from`), rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs = 15000, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.out.slice(from).match(pattern);
        if (m) {
          cleanup();
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${pattern}; output so far:\n${this.out}`));
      }, timeoutMs);
      const onExit = () => {
        check();
        cleanup();
        reject(new Error(`process exited while waiting for ${pattern}; output:\n${this.out}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.child.stdout.off('data', check);
        this.child.stderr.off('data', check);
        this.child.off('exit', onExit);
      };
      this.child.stdout.on('data', check);
      this.child.stderr.on('data', check);
      this.child.on('exit', onExit);
      check();
    });
  }

  /** Resolves with the exit code, killing the child after `timeoutMs`. */
  exited(timeoutMs = 15000): Promise<number | null> {
    // A child killed by a signal has no exit code, only a signal code: it has exited all the same.
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      this.child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }
}

/**
 * Resolves when `awplus --daemon` (or the program `what` names) has printed its `ready` line (stdout),
 * however its output is kept; kills it and rejects when it exits first or after `timeoutMs`. `output`
 * is what it printed so far, for the error.
 */
export function daemonReady(child: ChildProcess, output: () => string, timeoutMs: number, what = 'awplus --daemon'): Promise<void> {
  let seen = '';
  return new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${what} ${why}:\n${output()}`));
    };
    const check = (d: Buffer) => {
      seen += d.toString('utf8');
      if (!/ready/.test(seen)) return;
      cleanup();
      resolve();
    };
    const exited = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited (${code ?? signal}) before it was ready`);
    const timer = setTimeout(() => fail(`was not ready in ${timeoutMs} ms`), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', exited);
    };
    child.stdout!.on('data', check);
    child.once('exit', exited);
  });
}

/** Starts `awplus --daemon` and waits for its `ready` line. */
export async function startDaemon(flash: string): Promise<Watched> {
  const child = spawn(process.execPath, awplusArgv(['--daemon', '--flash', flash]), { stdio: ['pipe', 'pipe', 'pipe'] });
  const w = new Watched(child);
  await daemonReady(child, () => w.out, 15000);
  return w;
}
