/**
 * 2FA logins side by side with FreeRADIUS 3.2 + rlm_totp (SPEC §12, issue #16), in the same run, both
 * driven by radclient (freeradius-utils) with 100 requests in flight in all:
 *  - `2fa only`: the password field is the TOTP code (AWS Managed AD MFA); FreeRADIUS puts it into
 *    TOTP-Password for rlm_totp;
 *  - password + code: `<password><6-digit code>`; ours with `2fa-in-password` (the local user table as
 *    the first factor), FreeRADIUS splits it in `authorize` and runs pap then totp.
 * USERS users, each with its own secret, log in once with their current code. Both servers run as
 * deployed, each in its own process, their CPU read from /proc: ours is `awplus --daemon` (daemon.ts),
 * keeps single use durable (fsync before every Accept) and writes its JSON audit lines to stderr, here a
 * file; rlm_totp keeps no single-use state at all, and FreeRADIUS writes one `Auth:` line per request
 * (`log { auth = yes }`) to its log file. Each case runs twice,
 * alternating ours and theirs, on fresh users, after one unmeasured warm-up load of each. The load
 * generator is load.ts's (radclients at the lowest priority, so that it is not what is measured).
 * Latency: a probe sends one request at a time during each load and records every round trip.
 * A calibration row follows (calibration() below): the `2fa only` load answered by bare-responder.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../src/app.ts';
import { base32Decode, hotp, randomSecret, timeStep } from '../src/twofa/otp.ts';
import { startFreeradius } from '../test/helpers/freeradius.ts';
import { cpuMsOf, startBenchProcess, startOurDaemon } from './daemon.ts';
import { IN_FLIGHT, percentile, probeLatency, RADCLIENTS, radclientEntry, radclientLoad } from './load.ts';

const USERS = 5000;
/** Warm-up logins per case and server: Node's JIT settles only after a few thousand (500 left the first measured round a third slower). */
const WARM = USERS;
const PROBES = 200;
const OURS = 21822;
const FR = 21823;
/** bench/bare-responder.ts: in memory, and with its synced journal. */
const BARE = 21824;
const BARE_SYNCED = 21825;
const quiet = { info() {}, error() {} };

type Mode = 'only' | 'password';
interface Login {
  readonly user: string;
  readonly secret: string;
}

const codeOf = (secret: string) => hotp(base32Decode(secret)!, timeStep(Date.now()));
const passwordOf = (mode: Mode, l: Login) => (mode === 'only' ? codeOf(l.secret) : `pw-${l.user}${codeOf(l.secret)}`);

/** The radclient requests of one round, each user with its current code. */
const requests = (mode: Mode, logins: readonly Login[]) => logins.map((l) => radclientEntry(l.user, passwordOf(mode, l)));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Each password user's first login of the day, unmeasured: the local first factor pays crypt(3) once
 * per user and password and remembers the result (FreeRADIUS compares Cleartext-Password, which costs
 * nothing). Then the next TOTP step is waited for, so that the measured logins bring codes not used yet.
 */
async function firstLoginsOfTheDay(dir: string, logins: readonly Login[]): Promise<void> {
  // A thousand at a time (about 4 s of crypt), each with codes of its moment: all at once, the last
  // would wait long enough for their codes to leave the window.
  for (let i = 0; i < logins.length; i += 1000) {
    const some = logins.slice(i, i + 1000);
    const got = await radclientLoad(dir, [OURS], 'benchsecret', requests('password', some));
    if (got.accepted !== some.length) throw new Error(`first logins: ours accepted ${got.accepted} of ${some.length}: ${got.out.slice(0, 500)}`);
  }
  const used = timeStep(Date.now());
  while (timeStep(Date.now()) <= used) await sleep(200);
}

/** Users of one round: `n` load users and PROBES probe users with their own secrets. */
function round(tag: string, n: number): { load: Login[]; probe: Login[] } {
  const make = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => ({ user: `${prefix}${i}`, secret: randomSecret() }));
  return { load: make(`${tag}u`, n), probe: make(`${tag}p`, PROBES) };
}

export async function runTotpBench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'awplus-bench-totp-'));
  const rounds = { only: [round('a', USERS), round('b', USERS)], password: [round('c', USERS), round('d', USERS)] };
  // Unmeasured first loads, one per case and server: the JIT and FreeRADIUS's thread pool warm.
  const warm = { only: round('wo', WARM), password: round('wp', WARM) };
  const everyone = [...Object.values(rounds).flat(), ...Object.values(warm)].flatMap((r) => [...r.load, ...r.probe]);
  // The calibration rounds' users: FreeRADIUS's users file and the bare responder's, not the appliance's.
  const bare = [round('we', WARM), round('e', USERS), round('f', USERS), round('g', USERS)].map((r) => r.load);

  // Ours: the NAS entry says the case (`2fa only`, or `2fa` with 2fa-in-password); local users for password + code.
  const app = await App.start({ flash: join(dir, 'flash'), log: quiet });
  const s = app.openSession({ source: 'test', user: 'bench', userPrivilege: 15, enabled: true, location: 'bench' });
  for (const line of [
    'conf t', 'service 2fa', `radius-server host 127.0.0.1 auth-port ${OURS} key self`, 'aaa authentication openvpn default group radius 2fa 2fa-in-password',
    'radius-server local', `server auth-port ${OURS}`, 'nas 127.0.0.1 key benchsecret 2fa only', 'server enable', 'end', 'write memory',
  ]) {
    const r = await s.execute(line);
    if (!r.ok) throw new Error(`${line}: ${r.output}`);
  }
  const { hashPassword } = await import('../src/util/crypt.ts');
  const passwordUsers = [...rounds.password, warm.password].flatMap((r) => [...r.load, ...r.probe]);
  app.config.update((c) => {
    for (const l of passwordUsers) c.radius.local.users.set(l.user, hashPassword(`pw-${l.user}`));
  });
  await s.execute('write memory');
  for (const l of everyone) await app.twofa.createUser(l.user, { secret: l.secret });
  await app.stop();

  // FreeRADIUS answers both NAS addresses with one secret; the users file says which case a user is.
  const users = [...everyone, ...bare.flat()]
    .map((l) => (passwordUsers.includes(l) ? `${l.user}\tTOTP-Secret := "${l.secret}", Cleartext-Password := "pw-${l.user}"` : `${l.user}\tTOTP-Secret := "${l.secret}"`))
    .join('\n');
  const fr = await startFreeradius(FR, FR + 100, { users: users + '\n', threaded: true, config: 'radiusd-totp.conf' });

  const rows: string[] = [];
  try {
    for (const mode of ['only', 'password'] as const) {
      const setup = await App.start({ flash: join(dir, 'flash'), log: quiet });
      const cfg = await setup.openSession({ source: 'test', user: 'bench', userPrivilege: 15, enabled: true, location: 'bench' });
      for (const line of ['conf t', 'radius-server local', `nas 127.0.0.1 key benchsecret ${mode === 'only' ? '2fa only' : '2fa'}`, 'end', 'write memory']) await cfg.execute(line);
      await setup.stop();
      const ours: { rate: number; lat: number[]; cpu: number }[] = [];
      const theirs: { rate: number; lat: number[]; cpu: number }[] = [];
      const a = await startOurDaemon(join(dir, 'flash'), join(dir, `awplus-${mode}.log`));
      try {
        // The users' secrets are unsealed in the background after boot (a second is plenty for these 31 200).
        await sleep(1000);
        if (mode === 'password') await firstLoginsOfTheDay(dir, passwordUsers);
        for (const r of [warm[mode], ...rounds[mode]]) {
          const probe = (port: number, secret: string, running: Promise<unknown>) => probeLatency(port, secret, r.probe.map((l) => ({ user: l.user, password: () => passwordOf(mode, l) })), running);
          const c0 = cpuMsOf(a.pid);
          const running = radclientLoad(dir, [OURS], 'benchsecret', requests(mode, r.load));
          const [got, lat] = await Promise.all([running, probe(OURS, 'benchsecret', running)]);
          const cpu = ((cpuMsOf(a.pid) - c0) * 1000) / (r.load.length + lat.length);
          if (got.accepted !== r.load.length) throw new Error(`ours accepted ${got.accepted} of ${r.load.length} (${mode}): ${got.out.slice(0, 500)}`);
          const f0 = cpuMsOf(fr.pid);
          const frRunning = radclientLoad(dir, [FR], 'upstreamsecret', requests(mode, r.load));
          const [frGot, frLat] = await Promise.all([frRunning, probe(FR, 'upstreamsecret', frRunning)]);
          const frCpu = ((cpuMsOf(fr.pid) - f0) * 1000) / (r.load.length + frLat.length);
          if (frGot.accepted !== r.load.length) throw new Error(`FreeRADIUS accepted ${frGot.accepted} of ${r.load.length} (${mode}): ${frGot.out.slice(0, 500)}`);
          if (r === warm[mode]) continue;
          ours.push({ rate: r.load.length / got.seconds, lat, cpu });
          theirs.push({ rate: r.load.length / frGot.seconds, lat: frLat, cpu: frCpu });
        }
      } finally {
        await a.stop();
      }
      const fmt = (runs: { rate: number; lat: number[]; cpu: number }[]) =>
        runs.map((x) => `${x.rate.toFixed(0)}/s (p50 ${percentile(x.lat, 50).toFixed(2)} ms, p99 ${percentile(x.lat, 99).toFixed(2)} ms, CPU ${x.cpu.toFixed(0)} µs/login)`).join('; ');
      const ratios = ours.map((o, i) => (o.rate / theirs[i]!.rate).toFixed(2)).join(', ');
      const what = mode === 'only' ? '`2fa only` (the code alone)' : 'password + code (`2fa-in-password`)';
      rows.push(`| 2FA logins, ${what}: ${USERS} users once each, radclient ×${RADCLIENTS} (${IN_FLIGHT} in flight); ours single use with fsync, rlm_totp none — target ≥ 1.0× | ${fmt(ours)} | FreeRADIUS 3.2 + rlm_totp: ${fmt(theirs)} | ours/FreeRADIUS = ${ratios}× |`);
    }
    rows.push(await calibration(dir, bare, fr.pid));
  } finally {
    await fr.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/**
 * The `2fa only` load answered by bench/bare-responder.ts (our packet and OTP functions alone), in memory
 * and with one synced journal line per Accept, each round alternating with FreeRADIUS + rlm_totp: what
 * this load generator and one fdatasync per Accept allow on this machine, apart from the appliance.
 */
async function calibration(dir: string, rounds: readonly Login[][], frPid: number): Promise<string> {
  const usersFile = join(dir, 'bare-users.json');
  writeFileSync(usersFile, JSON.stringify(rounds.flat().map((l) => [l.user, l.secret])));
  const script = new URL('./bare-responder.ts', import.meta.url).pathname;
  const start = (port: number, journal?: string) =>
    startBenchProcess(['--max-semi-space-size=32', '--import', 'tsx', script, String(port), 'benchsecret', usersFile, ...(journal ? [journal] : [])], join(dir, `bare-${port}.log`), 'bench/bare-responder.ts', 30000);
  const inMemory = await start(BARE);
  try {
    const synced = await start(BARE_SYNCED, join(dir, 'bare-journal'));
    try {
      const runs: Record<'memory' | 'synced' | 'fr', { rate: number; cpu: number }[]> = { memory: [], synced: [], fr: [] };
      for (const [i, r] of rounds.entries()) {
        for (const [kind, port, secret, pid] of [['memory', BARE, 'benchsecret', inMemory.pid], ['synced', BARE_SYNCED, 'benchsecret', synced.pid], ['fr', FR, 'upstreamsecret', frPid]] as const) {
          const c0 = cpuMsOf(pid);
          const got = await radclientLoad(dir, [port], secret, requests('only', r));
          if (got.accepted !== r.length) throw new Error(`calibration: ${kind} accepted ${got.accepted} of ${r.length}: ${got.out.slice(0, 500)}`);
          if (i > 0) runs[kind].push({ rate: r.length / got.seconds, cpu: ((cpuMsOf(pid) - c0) * 1000) / r.length });
        }
      }
      const fmt = (xs: { rate: number; cpu: number }[]) => xs.map((x) => `${x.rate.toFixed(0)}/s (CPU ${x.cpu.toFixed(0)} µs/login)`).join('; ');
      const ratio = (xs: { rate: number }[]) => xs.map((x, i) => (x.rate / runs.fr[i]!.rate).toFixed(2)).join(', ');
      return (
        `| calibration: the same \`2fa only\` load answered by our packet and OTP functions alone (bench/bare-responder.ts: no configuration, duplicate cache, audit log or store; single use in memory), ` +
        `then with one fdatasync'ed journal line per Accept | in memory ${fmt(runs.memory)}; synced ${fmt(runs.synced)} | FreeRADIUS 3.2 + rlm_totp: ${fmt(runs.fr)} | ` +
        `in memory/FreeRADIUS = ${ratio(runs.memory)}×; synced/FreeRADIUS = ${ratio(runs.synced)}× |`
      );
    } finally {
      await synced.stop();
    }
  } finally {
    await inMemory.stop();
  }
}
