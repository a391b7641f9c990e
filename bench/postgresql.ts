/**
 * Several appliances on one PostgreSQL (SPEC §16, issue #18): 2FA logins/s (`2fa only`, the code
 * alone, every user with its own secret, each logging in once) of
 *   - one appliance on the embedded store (level, fsync before every Accept),
 *   - one appliance on PostgreSQL (one compare-and-set UPDATE committed before every Accept, the
 *     decision recorded for retransmissions elsewhere),
 *   - two appliances on one PostgreSQL, the load split over both,
 * side by side with FreeRADIUS 3.2 + rlm_totp (no single-use state at all) in the same run. Every
 * appliance is its own `awplus --daemon` process; PostgreSQL 15 (Debian) runs from a temporary
 * directory on this machine with its defaults (fsync on). The load is radclient ×4 (freeradius-utils),
 * 100 requests in flight in all; each case runs twice, alternating, on fresh users.
 * For PostgreSQL, the transactions per login are read from pg_stat_database (xact_commit: every
 * statement is its own transaction): what one login costs the database, whichever appliance sent it.
 *
 * Then the appliance's own cost without a load generator competing for the CPU: the RADIUS server's
 * `handle()` called in this process (100 in flight) on the embedded store and on PostgreSQL, logins/s
 * and this process's CPU time per login.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { App } from '../src/app.ts';
import { base32Decode, hotp, randomSecret, timeStep } from '../src/twofa/otp.ts';
import { PostgresUserStore } from '../src/twofa/store/postgresql.ts';
import { newUser } from '../src/twofa/types.ts';
import { ApplianceClock } from '../src/util/clock.ts';
import { startFreeradius } from '../test/helpers/freeradius.ts';
import { peer } from '../test/helpers/peers.ts';
import { type BenchProcess, startOurDaemon } from './daemon.ts';
import { IN_FLIGHT, papRequest, RADCLIENTS, radclientEntry, radclientLoad } from './load.ts';
import { DB_NAME, PgServer } from '../test/helpers/postgres.ts';

const USERS = 4000;
/** Warm-up logins per case, as many as a measured round: with 300 the embedded row's first round ran at half the second's (Node's JIT had not settled). */
const WARM = USERS;
const PORTS = { level: 21830, pgA: 21831, pgB: 21832, fr: 21833 };
const NAS_SECRET = 'benchsecret';
const quiet = { info() {}, error() {} };

interface Login {
  readonly user: string;
  readonly secret: string;
}
type Case = 'level' | 'pg1' | 'pg2' | 'fr';

const make = (prefix: string, n: number): Login[] => Array.from({ length: n }, (_, i) => ({ user: `${prefix}${i}`, secret: randomSecret() }));
const entry = (l: Login) => radclientEntry(l.user, hotp(base32Decode(l.secret)!, timeStep(Date.now())));

/** The radclients over `logins`, client k to ports[k % ports.length]. */
const load = (dir: string, ports: number[], secret: string, logins: readonly Login[]) => radclientLoad(dir, ports, secret, logins.map(entry));

/** A flash with the group's key file and a startup config: a `2fa only` NAS on `port`, the store at `url` (or embedded). */
function flash(dir: string, name: string, key: Buffer, port: number, url?: string): string {
  const f = join(dir, name);
  const lines = ['service 2fa', ...(url ? [`2fa store postgresql ${url}`] : []), 'radius-server local', ` server auth-port ${port}`, ` nas 127.0.0.1 key ${NAS_SECRET} 2fa only`, ' server enable', ''];
  mkdirSync(f, { recursive: true });
  writeFileSync(join(f, '.2fa.key'), key.toString('base64') + '\n', { mode: 0o600 });
  writeFileSync(join(f, 'default.cfg'), lines.join('\n'));
  return f;
}

/** This process's CPU time so far, in seconds (user + system). */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** `logins` through `app`'s RADIUS server in this process, 100 at a time: logins/s and CPU ms per login. */
async function direct(app: App, logins: readonly Login[]): Promise<{ rate: number; cpuMs: number }> {
  const secret = Buffer.from(NAS_SECRET);
  let next = 0;
  let accepted = 0;
  const c0 = cpuSeconds();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, w) => {
      while (next < logins.length) {
        const l = logins[next++]!;
        const packet = papRequest(w, l.user, hotp(base32Decode(l.secret)!, timeStep(Date.now())), secret);
        const reply = await app.radius.server.handle(packet, { address: '127.0.0.1', port: 40000 + w });
        if (reply?.[0] === 2) accepted++;
      }
    }),
  );
  if (accepted !== logins.length) throw new Error(`direct: ${accepted} of ${logins.length} accepted`);
  return { rate: logins.length / ((performance.now() - t0) / 1000), cpuMs: ((cpuSeconds() - c0) / logins.length) * 1000 };
}

export async function runPostgresBench(): Promise<string[]> {
  peer('radclient');
  const dir = mkdtempSync(join(tmpdir(), 'awplus-bench-pg-'));
  const key = randomBytes(32);
  const cases: Case[] = ['fr', 'level', 'pg1', 'pg2'];
  const rounds = [0, 1].map((r) => Object.fromEntries(cases.map((c) => [c, make(`${c}${r}u`, USERS)])) as Record<Case, Login[]>);
  const warm = Object.fromEntries(cases.map((c) => [c, make(`${c}w`, WARM)])) as Record<Case, Login[]>;
  const forCase = (c: Case) => [...warm[c], ...rounds.flatMap((r) => r[c])];

  const directUsers = { level: make('dl', USERS), pg: make('dp', USERS), warmLevel: make('dwl', WARM), warmPg: make('dwp', WARM) };
  const pg = await PgServer.start();
  const url = pg.url();
  const daemons: BenchProcess[] = [];
  let fr: { stop: () => Promise<void> } | undefined;
  try {
    // The users: the embedded store's through the appliance, PostgreSQL's straight into the database.
    const levelFlash = flash(dir, 'level', key, PORTS.level);
    const setup = await App.start({ flash: levelFlash, log: quiet });
    const levelUsers = forCase('level');
    for (let i = 0; i < levelUsers.length; i += 500) await Promise.all(levelUsers.slice(i, i + 500).map((l) => setup.twofa.createUser(l.user, { secret: l.secret })));
    await setup.stop();
    const shared = PostgresUserStore.create({ url, password: undefined }, key, new ApplianceClock(), quiet);
    const pgUsers = [...forCase('pg1'), ...forCase('pg2')];
    for (let i = 0; i < pgUsers.length; i += 2000) await shared.put(...pgUsers.slice(i, i + 2000).map((l) => newUser(l.user, 'totp', Date.now(), { secret: l.secret, scratch: [] })));
    await shared.close();
    fr = await startFreeradius(PORTS.fr, PORTS.fr + 100, { users: forCase('fr').map((l) => `${l.user}\tTOTP-Secret := "${l.secret}"`).join('\n') + '\n', threaded: true, config: 'radiusd-totp.conf' });

    for (const f of [levelFlash, flash(dir, 'pgA', key, PORTS.pgA, url), flash(dir, 'pgB', key, PORTS.pgB, url)]) daemons.push(await startOurDaemon(f, `${f}.log`));
    const ports: Record<Case, number[]> = { fr: [PORTS.fr], level: [PORTS.level], pg1: [PORTS.pgA], pg2: [PORTS.pgA, PORTS.pgB] };
    const secret = (c: Case) => (c === 'fr' ? 'upstreamsecret' : NAS_SECRET);
    // JIT, pools and connections warm before anything is measured.
    for (const c of cases) await load(dir, ports[c], secret(c), warm[c]);

    const commits = async () => Number((await pg.sql(`SELECT xact_commit FROM pg_stat_database WHERE datname = '${DB_NAME}'`))[0]!['xact_commit']);
    const results: Record<Case, { rate: number; commitsPerLogin?: number }[]> = { fr: [], level: [], pg1: [], pg2: [] };
    for (const r of rounds) {
      for (const c of cases) {
        // Statistics reach pg_stat_database within a second of a commit (PostgreSQL 15 flushes them at most once a second).
        const before = c.startsWith('pg') ? (await new Promise((res) => setTimeout(res, 1100)), await commits()) : 0;
        const got = await load(dir, ports[c], secret(c), r[c]);
        if (got.accepted !== r[c].length) throw new Error(`${c}: ${got.accepted} of ${r[c].length} accepted: ${got.out.slice(0, 500)}`);
        const run: { rate: number; commitsPerLogin?: number } = { rate: r[c].length / got.seconds };
        if (c.startsWith('pg')) {
          await new Promise((res) => setTimeout(res, 1100));
          // Less the two statements of each reading (pg.sql connects and reads: its own transactions).
          run.commitsPerLogin = (await commits() - before - 2) / r[c].length;
        }
        results[c].push(run);
      }
    }
    // The appliance alone: the daemons stopped, one appliance in this process, no radclient.
    for (const d of daemons.splice(0)) await d.stop();
    const alone: Record<'level' | 'pg', { rate: number; cpuMs: number }> = { level: { rate: 0, cpuMs: 0 }, pg: { rate: 0, cpuMs: 0 } };
    {
      const f = flash(dir, 'direct-level', key, PORTS.level);
      const app = await App.start({ flash: f, log: quiet });
      const all = [...directUsers.warmLevel, ...directUsers.level];
      for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((l) => app.twofa.createUser(l.user, { secret: l.secret })));
      await direct(app, directUsers.warmLevel);
      alone.level = await direct(app, directUsers.level);
      await app.stop();
    }
    {
      const seed = PostgresUserStore.create({ url, password: undefined }, key, new ApplianceClock(), quiet);
      await seed.put(...[...directUsers.warmPg, ...directUsers.pg].map((l) => newUser(l.user, 'totp', Date.now(), { secret: l.secret, scratch: [] })));
      await seed.close();
      const app = await App.start({ flash: flash(dir, 'direct-pg', key, PORTS.pgA, url), log: quiet });
      await direct(app, directUsers.warmPg);
      alone.pg = await direct(app, directUsers.pg);
      await app.stop();
    }

    const fmt = (c: Case) => results[c].map((x) => `${x.rate.toFixed(0)}/s`).join('; ');
    const ratio = (c: Case) => results[c].map((x, i) => (x.rate / results.fr[i]!.rate).toFixed(2)).join(', ');
    const cpl = (c: Case) => results[c].map((x) => x.commitsPerLogin!.toFixed(1)).join(', ');
    const peer = `FreeRADIUS 3.2 + rlm_totp: ${fmt('fr')}`;
    const what = `2FA logins, \`2fa only\`, ${USERS} users once each, radclient ×${RADCLIENTS} (${IN_FLIGHT} in flight)`;
    return [
      `| ${what}: one appliance, embedded store (fsync per Accept) | ${fmt('level')} | ${peer} | ours/FreeRADIUS = ${ratio('level')}× |`,
      `| ${what}: one appliance on PostgreSQL 15 (one compare-and-set commit per Accept; ${cpl('pg1')} statements per login) | ${fmt('pg1')} | ${peer} | ours/FreeRADIUS = ${ratio('pg1')}× |`,
      `| ${what}: two appliances on one PostgreSQL 15, load split (${cpl('pg2')} statements per login) | ${fmt('pg2')} | ${peer} | ours/FreeRADIUS = ${ratio('pg2')}× |`,
      `| the appliance alone (RADIUS server in one process, 100 in flight, no load generator): embedded store vs PostgreSQL 15 | level ${alone.level.rate.toFixed(0)}/s, ${alone.level.cpuMs.toFixed(2)} ms CPU per login; PostgreSQL ${alone.pg.rate.toFixed(0)}/s, ${alone.pg.cpuMs.toFixed(2)} ms CPU per login | — | PostgreSQL/level = ${(alone.pg.rate / alone.level.rate).toFixed(2)}× |`,
    ];
  } finally {
    for (const d of daemons) await d.stop();
    await fr?.stop();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write((await runPostgresBench()).join('\n') + '\n');

