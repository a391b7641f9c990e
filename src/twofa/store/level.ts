/**
 * The embedded user store: a `level` database inside the flash directory (`.2fa-users/`), one JSON
 * record per user, secrets and scratch codes sealed (AES-256-GCM, the user name as associated data)
 * under a key file (`.2fa.key`) that never enters the config or an export unencrypted (SPEC §10).
 *
 * All records are loaded at open and served from memory; every change is written with `sync: true`
 * before the caller's promise resolves. Writes that arrive while a batch is being synced are grouped
 * into the next batch (group commit), so durability does not cost one fsync per request under load.
 */
import { join } from 'node:path';
import { Level } from 'level';
import { open, seal } from '../../util/aead.ts';
import { loadKeyFile } from '../../util/key-file.ts';
import type { TwoFaUser } from '../types.ts';
import { UserStoreError, type UserStore } from './types.ts';

/** A record as stored: the secret parts sealed. */
interface StoredUser extends Omit<TwoFaUser, 'secret' | 'scratch'> {
  /** base64(seal(JSON {secret, scratch})) */
  readonly sealed: string;
}

const KEY_FILE = '.2fa.key';
const DB_DIR = '.2fa-users';

type Op = { type: 'put'; key: string; value: StoredUser } | { type: 'del'; key: string };

export class LevelUserStore implements UserStore {
  private readonly users = new Map<string, TwoFaUser>();
  private queue: { ops: Op[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } = { ops: [], waiters: [] };
  private flushing: Promise<void> | undefined;
  /** Synced batches and the records they carried (bench). */
  readonly stats = { batches: 0, records: 0 };

  private constructor(
    private readonly db: Level<string, StoredUser>,
    private readonly key: Buffer,
  ) {}

  /** Opens (creating) the store in `flashDir`; a second process gets a clear error. */
  static async open(flashDir: string): Promise<LevelUserStore> {
    let key: Buffer;
    try {
      key = loadKeyFile(flashDir, KEY_FILE);
    } catch (e) {
      throw new UserStoreError(`cannot read the 2FA store key: ${(e as Error).message}`, { cause: e });
    }
    const db = new Level<string, StoredUser>(join(flashDir, DB_DIR), { valueEncoding: 'json' });
    try {
      await db.open();
    } catch (e) {
      const locked = (e as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
      throw new UserStoreError(locked ? 'the 2FA user store is in use by another process' : `cannot open the 2FA user store: ${(e as Error).message}`, { cause: e });
    }
    const store = new LevelUserStore(db, key);
    for await (const [name, stored] of db.iterator()) store.users.set(name, store.unseal(stored));
    return store;
  }

  private unseal(stored: StoredUser): TwoFaUser {
    const { sealed, ...rest } = stored;
    const secrets = JSON.parse(open(this.key, Buffer.from(sealed, 'base64'), Buffer.from(stored.name)).toString('utf8')) as { secret: string; scratch: string[] };
    return { ...rest, secret: secrets.secret, scratch: secrets.scratch };
  }

  private sealUser(user: TwoFaUser): StoredUser {
    const { secret, scratch, ...rest } = user;
    // The name is bound as associated data: a sealed blob copied to another user does not open.
    return { ...rest, sealed: seal(this.key, Buffer.from(JSON.stringify({ secret, scratch })), Buffer.from(user.name)).toString('base64') };
  }

  async get(name: string): Promise<TwoFaUser | undefined> {
    return this.users.get(name);
  }

  async list(): Promise<TwoFaUser[]> {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  put(...users: TwoFaUser[]): Promise<void> {
    for (const u of users) this.users.set(u.name, u);
    return this.write(users.map((u) => ({ type: 'put', key: u.name, value: this.sealUser(u) })));
  }

  delete(...names: string[]): Promise<void> {
    for (const n of names) this.users.delete(n);
    return this.write(names.map((key) => ({ type: 'del', key })));
  }

  replaceAll(users: readonly TwoFaUser[]): Promise<void> {
    const keep = new Set(users.map((u) => u.name));
    const gone = [...this.users.keys()].filter((n) => !keep.has(n));
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

  async close(): Promise<void> {
    await this.flushing;
    await this.db.close();
  }
}
