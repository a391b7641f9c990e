/**
 * The load generator of the RADIUS benches, and the latency probe that runs beside it: the requests
 * split over RADCLIENTS radclient processes (one radclient slows down as its request file grows, and
 * would then measure itself), IN_FLIGHT requests outstanding in all; client k sends to
 * ports[k % ports.length]. Two radclients: FreeRADIUS answered fastest with one or two (about 21 000/s
 * here), more of them take CPU from the servers of this 2-core machine (with four, 17 000–19 000/s).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeRequest, hidePassword } from '../src/radius/crypto.ts';
import { Attr, Code } from '../src/radius/packet.ts';
import { peer } from '../test/helpers/peers.ts';

export const RADCLIENTS = 2;
export const IN_FLIGHT = 100;

/** PAP and the code in one User-Password (OpenVPN's static challenge, SCRV1). */
export const scrv1 = (password: string, code: string) => `SCRV1:${Buffer.from(password).toString('base64')}:${Buffer.from(code).toString('base64')}`;

/** An Access-Request with User-Name and a hidden User-Password (RFC 2865 §5.2), for the probes. */
export function papRequest(identifier: number, user: string, password: string, secret: Buffer): Buffer {
  const auth = randomBytes(16);
  return encodeRequest(identifier, auth, [
    { type: Attr.UserName, value: Buffer.from(user) },
    { type: Attr.UserPassword, value: hidePassword(Buffer.from(password), secret, auth) },
  ], secret);
}

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
      // Under `nice`: radclient busy-loops while it waits for answers (its own FIXME), so at normal
      // priority it takes the CPU away from whichever server answers slower, and measures itself.
      const child = spawn(peer('nice'), ['-n', '19', peer('radclient'), '-q', '-s', '-t', '5', '-r', '1', '-p', String(IN_FLIGHT / RADCLIENTS), '-f', file, `127.0.0.1:${ports[k % ports.length]}`, 'auth', secret]);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      await new Promise((r) => child.on('close', r));
      return { accepted: Number(/Accepted\s*:\s*(\d+)/.exec(out)?.[1] ?? 0), out };
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, accepted: runs.reduce((a, r) => a + r.accepted, 0), out: runs.map((r) => r.out).join('\n') };
}

/**
 * A latency probe beside a load: one request at a time (until `until` settles, when given), each
 * round trip recorded in ms; sorted. The password is made at send time (a TOTP code of that moment).
 * Every probe is a login that should succeed: anything but an Access-Accept fails the bench.
 */
export async function probeLatency(port: number, secret: string, requests: readonly { user: string; password: () => string }[], until?: Promise<unknown>): Promise<number[]> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const s = Buffer.from(secret);
  const times: number[] = [];
  let refused = 0;
  let stop = false;
  void until?.then(() => (stop = true));
  for (const [id, r] of requests.entries()) {
    if (stop) break;
    const pkt = papRequest(id & 0xff, r.user, r.password(), s);
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        refused++;
        resolve();
      }, 5000);
      socket.once('message', (reply: Buffer) => {
        clearTimeout(timer);
        if (reply[0] !== Code.AccessAccept) refused++;
        resolve();
      });
      socket.send(pkt, port, '127.0.0.1');
    });
    times.push(performance.now() - t0);
  }
  socket.close();
  if (refused) throw new Error(`the latency probe on port ${port}: ${refused} of ${times.length} logins not accepted`);
  return times.sort((a, b) => a - b);
}

/** The p-th percentile of sorted values. */
export const percentile = (sorted: readonly number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

/**
 * Requests sent at a steady `perSecond` from one socket, each answer matched by its identifier (at most
 * 256 outstanding); every round trip in ms (sorted) and the number of Access-Accepts. Unanswered
 * requests count after `timeoutMs`.
 */
export async function pacedRequests(
  port: number,
  secret: string,
  requests: readonly { user: string; password: string }[],
  perSecond: number,
  timeoutMs = 5000,
): Promise<{ times: number[]; accepted: number; unanswered: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const s = Buffer.from(secret);
  const sentAt = new Map<number, number>();
  const times: number[] = [];
  let accepted = 0;
  socket.on('message', (reply: Buffer) => {
    const t0 = sentAt.get(reply[1]!);
    if (t0 === undefined) return;
    sentAt.delete(reply[1]!);
    times.push(performance.now() - t0);
    if (reply[0] === Code.AccessAccept) accepted++;
  });
  const start = performance.now();
  for (const [i, r] of requests.entries()) {
    const due = start + (i * 1000) / perSecond;
    if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    const id = i & 0xff;
    const pkt = papRequest(id, r.user, r.password, s);
    sentAt.set(id, performance.now());
    socket.send(pkt, port, '127.0.0.1');
  }
  const deadline = performance.now() + timeoutMs;
  while (sentAt.size > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const unanswered = sentAt.size;
  socket.close();
  return { times: times.sort((a, b) => a - b), accepted, unanswered };
}
