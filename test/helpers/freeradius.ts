/**
 * A FreeRADIUS process for the tests (the upstream first factor), on a high loopback port, with its
 * own config directory made from fixtures/freeradius. Stopped by the test.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watched } from './process.ts';

const FIXTURES = new URL('../../fixtures/freeradius/', import.meta.url).pathname;

/**
 * Starts FreeRADIUS answering Access-Requests on `port` and Accounting-Requests on `acctPort`.
 * `users` replaces the fixture users file; `threaded` runs it as in production (-f) rather than in
 * single-threaded debug mode (-X), for benchmarks; `config` names another radiusd.conf in
 * fixtures/freeradius (radiusd-totp.conf: FreeRADIUS checking TOTP codes with rlm_totp).
 */
export async function startFreeradius(
  port: number,
  acctPort = port + 100,
  options: { users?: string; threaded?: boolean; config?: string } = {},
): Promise<{ stop: () => Promise<void>; readonly pid: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'awplus-fr-'));
  mkdirSync(join(dir, 'run'));
  mkdirSync(join(dir, 'log'));
  writeFileSync(join(dir, 'radiusd.conf'), readFileSync(join(FIXTURES, options.config ?? 'radiusd.conf'), 'utf8').replaceAll('@DIR@', dir).replaceAll('@PORT@', String(port)).replaceAll('@ACCT_PORT@', String(acctPort)));
  writeFileSync(join(dir, 'users'), options.users ?? readFileSync(join(FIXTURES, 'users'), 'utf8'));
  const child = spawn('freeradius', options.threaded ? ['-f', '-d', dir, '-l', 'stdout'] : ['-X', '-d', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  const w = new Watched(child);
  try {
    await w.waitFor(/Ready to process requests/, 20000);
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
