/**
 * The 2FA user store: a `level` database inside the flash directory (`.2fa-users/`), one JSON record per
 * user, secrets and scratch codes encrypted with AES-256-GCM under a key file (`.2fa.key`, owner-only)
 * that never enters the config or an export unencrypted (SPEC §10).
 *
 * All records are loaded at open and served from memory; every change is written with `sync: true`
 * before the caller's promise resolves. Writes that arrive while a batch is being synced are grouped
 * into the next batch (group commit), so durability does not cost one fsync per request under load.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import type { TwoFaUser } from './types.ts';

/** A record as stored: the secret parts sealed. */
interface StoredUser extends Omit<TwoFaUser, 'secret' | 'scratch'> {
  /** base64(iv ‖ tag ‖ AES-256-GCM(JSON {secret, scratch})) */
  readonly sealed: string;
}

/** The store could not be opened (another process holds it, or the key is unreadable). */
export class UserStoreError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'UserStoreError';
  }
}

const KEY_FILE = '.2fa.key';
const DB_DIR = '.2fa-users';

/** Reads the store key, creating it (32 random bytes, mode 0600, O_EXCL) on first use. */
function loadKey(flashDir: string): Buffer {
  const path = join(flashDir, KEY_FILE);
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, randomBytes(32).toString('base64') + '\n');
    closeSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new UserStoreError(`${path} is not a 256-bit key`);
  return key;
}

/** Encrypts and decrypts the secret parts of records with the store key. */
export class Sealer {
  constructor(private readonly key: Buffer) {}

  seal(value: unknown, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad));
    const body = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  open<T>(sealed: string, aad: string): T {
    const raw = Buffer.from(sealed, 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')) as T;
  }
}

type Op = { type: 'put'; key: string; value: StoredUser } | { type: 'del'; key: string };

/** The persistent set of 2FA users. */
export class UserStore {
  private readonly users = new Map<string, TwoFaUser>();
  private queue: { ops: Op[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } = { ops: [], waiters: [] };
  private flushing: Promise<void> | undefined;
  /** Synced batches and the records they carried (bench and `show 2fa`). */
  readonly stats = { batches: 0, records: 0 };

  private constructor(
    private readonly db: Level<string, StoredUser>,
    private readonly sealer: Sealer,
  ) {}

  /** Opens (creating) the store in `flashDir`; a second process gets a clear error. */
  static async open(flashDir: string): Promise<UserStore> {
    const sealer = new Sealer(loadKey(flashDir));
    const db = new Level<string, StoredUser>(join(flashDir, DB_DIR), { valueEncoding: 'json' });
    try {
      await db.open();
    } catch (e) {
      const locked = (e as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
      throw new UserStoreError(locked ? 'the 2FA user store is in use by another process' : `cannot open the 2FA user store: ${(e as Error).message}`, { cause: e });
    }
    const store = new UserStore(db, sealer);
    for await (const [name, stored] of db.iterator()) store.users.set(name, store.unseal(stored));
    return store;
  }

  private unseal(stored: StoredUser): TwoFaUser {
    const { sealed, ...rest } = stored;
    const secrets = this.sealer.open<{ secret: string; scratch: string[] }>(sealed, stored.name);
    return { ...rest, secret: secrets.secret, scratch: secrets.scratch };
  }

  private sealUser(user: TwoFaUser): StoredUser {
    const { secret, scratch, ...rest } = user;
    // The name is bound as associated data: a sealed blob copied to another user does not open.
    return { ...rest, sealed: this.sealer.seal({ secret, scratch }, user.name) };
  }

  get(name: string): TwoFaUser | undefined {
    return this.users.get(name);
  }

  has(name: string): boolean {
    return this.users.has(name);
  }

  get size(): number {
    return this.users.size;
  }

  /** Every user, sorted by name. */
  list(): TwoFaUser[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Stores users; resolves once they are on disk (fsync). The in-memory view changes at once. */
  put(...users: TwoFaUser[]): Promise<void> {
    for (const u of users) this.users.set(u.name, u);
    return this.write(users.map((u) => ({ type: 'put', key: u.name, value: this.sealUser(u) })));
  }

  /** Deletes users; resolves once that is on disk. */
  delete(...names: string[]): Promise<void> {
    for (const n of names) this.users.delete(n);
    return this.write(names.map((key) => ({ type: 'del', key })));
  }

  /** Replaces the whole store in one atomic batch (import `replace`). */
  replaceAll(users: TwoFaUser[]): Promise<void> {
    const gone = [...this.users.keys()].filter((n) => !users.some((u) => u.name === n));
    this.users.clear();
    for (const u of users) this.users.set(u.name, u);
    return this.write([...gone.map((key): Op => ({ type: 'del', key })), ...users.map((u): Op => ({ type: 'put', key: u.name, value: this.sealUser(u) }))]);
  }

  private write(ops: Op[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.ops.push(...ops);
      this.queue.waiters.push({ resolve, reject });
      if (!this.flushing) this.flushing = this.flush();
    });
  }

  /** Group commit: one synced batch for everything queued; repeats while more arrived meanwhile. */
  private async flush(): Promise<void> {
    while (this.queue.waiters.length > 0) {
      const { ops, waiters } = this.queue;
      this.queue = { ops: [], waiters: [] };
      try {
        await this.db.batch(ops, { sync: true });
        this.stats.batches++;
        this.stats.records += ops.length;
        for (const w of waiters) w.resolve();
      } catch (e) {
        for (const w of waiters) w.reject(e);
      }
    }
    this.flushing = undefined;
  }

  /** Waits for pending writes and closes the database. */
  async close(): Promise<void> {
    await this.flushing;
    await this.db.close();
  }
}
