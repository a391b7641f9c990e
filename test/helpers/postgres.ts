/**
 * A PostgreSQL server for the tests (Debian `postgresql`; never the system service): `initdb` into a
 * temporary directory, `pg_ctl` on a free port of 127.0.0.1 with the socket in the same directory,
 * run as the `postgres` user when the tests run as root (CI does: the server refuses to run as root).
 * Stopped with `pg_ctl`, and by PID when the test process exits early, so a failed test never leaves
 * one running. A missing binary fails at once, naming the package.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';
import { requireBinary } from './peers.ts';

/** The newest installed server's bin directory (/usr/lib/postgresql/15/bin on Debian 12). */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) requireBinary(join(root, 'VERSION', 'bin', 'initdb'), 'postgresql');
  const dir = join(root, newest!, 'bin');
  requireBinary(join(dir, 'initdb'), 'postgresql');
  requireBinary(join(dir, 'pg_ctl'), 'postgresql');
  return dir;
}

/** PostgreSQL refuses to run as root: as root, drop to the `postgres` user the package creates. */
const asRoot = process.getuid?.() === 0;
const drop = asRoot ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups'] : [];

function run(bin: string, args: string[], timeoutMs = 30000): Promise<string> {
  const [cmd, ...rest] = [...drop, bin, ...args];
  return new Promise((resolve, reject) => {
    execFile(cmd!, rest, { timeout: timeoutMs, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } }, (e, stdout, stderr) =>
      e ? reject(new Error(`${bin} ${args.join(' ')}: ${e.message}\n${stdout}${stderr}`)) : resolve(stdout + stderr),
    );
  });
}

/** Postmasters still running when the test process exits are shut down by PID (immediate shutdown). */
const running = new Map<number, string>();
const killAll = () => {
  for (const [pid, dir] of running) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
};
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

export const DB_USER = 'awplus';
export const DB_PASSWORD = 'pg-secret-0f8a';
export const DB_NAME = 'awplus';

export class PgServer {
  private pid: number | undefined;
  private databases = 0;

  private constructor(
    private readonly bin: string,
    /** The temporary directory: data/, the socket, the server log. */
    readonly dir: string,
    readonly port: number,
  ) {}

  /** initdb, start, and a role and database for the appliances (password authentication over TCP). */
  static async start(): Promise<PgServer> {
    const bin = binDir();
    const dir = mkdtempSync(join(tmpdir(), 'awplus-pg-'));
    try {
      writeFileSync(join(dir, 'pw'), 'superuser-pw\n');
      if (asRoot) {
        chownSync(dir, uidOf('postgres'), gidOf('postgres'));
        chownSync(join(dir, 'pw'), uidOf('postgres'), gidOf('postgres'));
      }
      // -N: no fsync of the fresh cluster (seconds saved; the server itself runs with fsync on).
      await run(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', `--pwfile=${join(dir, 'pw')}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '-N', '--no-instructions']);
      const server = new PgServer(bin, dir, await freePort());
      await server.startServer();
      await server.superuser(`CREATE ROLE ${DB_USER} LOGIN PASSWORD '${DB_PASSWORD}'`, `CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}`);
      return server;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Whether the server was started (and not stopped) by this object. */
  get running(): boolean {
    return this.pid !== undefined;
  }

  /** The URL an appliance is configured with (`2fa store postgresql URL`). */
  url(password: string | undefined = DB_PASSWORD): string {
    return `postgresql://${DB_USER}${password === undefined ? '' : `:${password}`}@127.0.0.1:${this.port}/${DB_NAME}`;
  }

  /** A fresh database owned by the appliances' role, for one test; its URL, with `password` when given. */
  async database(password?: string): Promise<string> {
    const name = `t${++this.databases}`;
    await this.superuser(`CREATE DATABASE ${name} OWNER ${DB_USER}`);
    return `postgresql://${DB_USER}${password === undefined ? '' : `:${password}`}@127.0.0.1:${this.port}/${name}`;
  }

  /** Starts the server (again) on the same port and data; resolves once it accepts connections. */
  async startServer(): Promise<void> {
    const [pgCtl, data, log] = [join(this.bin, 'pg_ctl'), join(this.dir, 'data'), join(this.dir, 'server.log')];
    await run(pgCtl, ['-D', data, '-l', log, '-w', '-t', '30', '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`, 'start']).catch(async (e: Error) => {
      // pg_ctl gave up waiting, but the server may still be starting: stop it, so no test leaves one
      // running; and what it said is the only clue to why it was not up in time.
      await run(pgCtl, ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => undefined);
      throw new Error(`${e.message}\nserver log (end):\n${existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : '(none)'}`);
    });
    this.pid = Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    running.set(this.pid, this.dir);
  }

  /** Stops the server, keeping its data (`immediate`: as if it crashed; recovery replays the WAL at the next start). */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (this.pid === undefined) return;
    await run(join(this.bin, 'pg_ctl'), ['-D', join(this.dir, 'data'), '-m', mode, '-w', '-t', '30', 'stop']);
    running.delete(this.pid);
    this.pid = undefined;
  }

  /** Runs statements as the superuser over the Unix socket; the rows of the last one. */
  async superuser(...statements: string[]): Promise<Record<string, unknown>[]> {
    return this.query({ user: 'postgres', database: 'postgres' }, statements);
  }

  /** Runs statements in the appliances' database (or `database`) as its owner; the rows of the last one. */
  async sql(statements: string | string[], database = DB_NAME): Promise<Record<string, unknown>[]> {
    return this.query({ user: DB_USER, database }, typeof statements === 'string' ? [statements] : statements);
  }

  private async query(who: { user: string; database: string }, statements: string[]): Promise<Record<string, unknown>[]> {
    const client = new pg.Client({ host: this.dir, port: this.port, ...who, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      let rows: Record<string, unknown>[] = [];
      for (const s of statements) rows = (await client.query(s)).rows;
      return rows;
    } finally {
      await client.end();
    }
  }

  /** Stops the server and removes its directory. Safe to call twice. */
  async stop(): Promise<void> {
    try {
      await this.stopServer('fast');
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

function uidOf(user: string): number {
  return idOf(user, 2);
}
function gidOf(user: string): number {
  return idOf(user, 3);
}
function idOf(user: string, field: number): number {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no ${user} user: apt-get install postgresql (it creates the user)`);
  return Number(line.split(':')[field]);
}
