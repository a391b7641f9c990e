/**
 * A FreeRADIUS process for the tests (the upstream first factor), on a high loopback port, with its
 * own config directory made from fixtures/freeradius. Stopped by the test.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watched } from './process.ts';
import { peer } from './peers.ts';

const FIXTURES = new URL('../../fixtures/freeradius/', import.meta.url).pathname;

/**
 * Starts FreeRADIUS answering Access-Requests on `port` and Accounting-Requests on `acctPort`.
 * `users` replaces the fixture users file; `threaded` runs it as in production (-f, its log in a file)
 * rather than in single-threaded debug mode (-X), for benchmarks; `config` names another radiusd.conf in
 * fixtures/freeradius (radiusd-totp.conf: FreeRADIUS checking TOTP codes with rlm_totp).
 */
export async function startFreeradius(
  port: number,
  acctPort = port + 100,
  options: { users?: string; threaded?: boolean; config?: string } = {},
): Promise<{ stop: () => Promise<void>; readonly pid: number }> {
  const freeradius = peer('freeradius');
  const dir = mkdtempSync(join(tmpdir(), 'awplus-fr-'));
  mkdirSync(join(dir, 'run'));
  mkdirSync(join(dir, 'log'));
  writeFileSync(join(dir, 'radiusd.conf'), readFileSync(join(FIXTURES, options.config ?? 'radiusd.conf'), 'utf8').replaceAll('@DIR@', dir).replaceAll('@PORT@', String(port)).replaceAll('@ACCT_PORT@', String(acctPort)));
  writeFileSync(join(dir, 'users'), options.users ?? readFileSync(join(FIXTURES, 'users'), 'utf8'));
  // Threaded, it logs to a file in its directory, as a deployed FreeRADIUS does: through a pipe, the
  // benchmark's process would read (and keep) one Auth line per request, on the CPU both servers share.
  const logFile = join(dir, 'log', 'radius.log');
  const child = spawn(freeradius, options.threaded ? ['-f', '-d', dir, '-l', logFile] : ['-X', '-d', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  const w = new Watched(child);
  try {
    if (options.threaded) await logSays(logFile, /Ready to process requests/, w, 20000);
    else await w.waitFor(/Ready to process requests/, 20000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await w.exited();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `file` matches `pattern`; rejects when `timeoutMs` passes or the process exits first. */
async function logSays(file: string, pattern: RegExp, w: Watched, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exited = false;
  w.child.once('exit', () => (exited = true));
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (pattern.test(text)) return;
    if (exited || Date.now() > until) throw new Error(`FreeRADIUS ${exited ? 'exited' : 'timed out'} before ${pattern}; its log:\n${text}\n${w.out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
