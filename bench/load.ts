/**
 * The load generator of the RADIUS benches: the requests split over several radclient processes (one
 * radclient slows down as its request file grows, and would then measure itself), `inFlight` requests
 * outstanding in all; client k sends to ports[k % ports.length].
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { peer } from '../test/helpers/peers.ts';

export const RADCLIENTS = 4;
export const IN_FLIGHT = 100;

/** One request in radclient's input format (with a Message-Authenticator). */
export const radclientEntry = (user: string, password: string) => `User-Name = "${user}"\nUser-Password = "${password}"\nMessage-Authenticator = 0x00\n`;

/** Runs the radclients over `entries`; wall time and Accepts. */
export async function radclientLoad(dir: string, ports: readonly number[], secret: string, entries: readonly string[]): Promise<{ seconds: number; accepted: number; out: string }> {
  const files = Array.from({ length: RADCLIENTS }, (_, k) => {
    const file = join(dir, `load-${ports.join('-')}-${k}.txt`);
    writeFileSync(file, entries.filter((_, i) => i % RADCLIENTS === k).join('\n'));
    return file;
  });
  const t0 = performance.now();
  const runs = await Promise.all(
    files.map(async (file, k) => {
      const child = spawn(peer('radclient'), ['-q', '-s', '-t', '5', '-r', '1', '-p', String(IN_FLIGHT / RADCLIENTS), '-f', file, `127.0.0.1:${ports[k % ports.length]}`, 'auth', secret]);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      await new Promise((r) => child.on('close', r));
      return { accepted: Number(/Accepted\s*:\s*(\d+)/.exec(out)?.[1] ?? 0), out };
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, accepted: runs.reduce((a, r) => a + r.accepted, 0), out: runs.map((r) => r.out).join('\n') };
}
