/**
 * The embedded user store: a `level` database inside the flash directory (`.2fa-users/`), one JSON
 * record per user, secrets and scratch codes sealed (AES-256-GCM, the user name as associated data)
 * under a key file (`.2fa.key`) that never enters the config or an export unencrypted (SPEC §10).
 *
 * Records are read once at open and served from memory; their secrets are unsealed in the background
 * once the appliance is up (or at once when a record is asked for first), so a large store opens
 * fast. A change is in memory only once it is on disk (`sync: true`) — except a login's stamp that
 * touches no security state (`update` with `durable: false`), which is not waited for — and writes
 * that arrive while a batch is being synced are grouped into the next batch (util/group-commit.ts), so
 * durability does not cost one fsync per request under load.
 *
 * A login changes only a user's state (used step, counter, skew, failures, lockout, last login), not
 * the sealed secrets, so it writes only that: under a key of its own, the user name after a NUL (no
 * user name starts with one; `put` refuses such a name), which sorts before every name. A user's
 * whole record stays under the name; a state record, when there is one, is newer than the state in it
 * and is folded in at open, and removed in the same batch whenever the whole record is written again.
 * A store written before state records existed is read as it is.
 */
import { join } from 'node:path';
import { Level } from 'level';
import { open, seal } from '../../util/aead.ts';
import { GroupCommit } from '../../util/group-commit.ts';
import { loadKeyFile } from '../../util/key-file.ts';
import type { TwoFaUser } from '../types.ts';
import { StoreWriteError, UserStoreError, type UserStore } from './types.ts';

/** A record as stored: the secret parts sealed. */
interface StoredUser extends Omit<TwoFaUser, 'secret' | 'scratch'> {
  /** base64(seal(JSON {secret, scratch})) */
  readonly sealed: string;
}

/** The part of a record a login changes; `null` for an absent value, so that it replaces one. */
type StateRecord = Pick<TwoFaUser, 'counter' | 'skew' | 'skewHistory' | 'failures'> & { readonly [K in 'lastStep' | 'lockedUntil' | 'lastLogin']: number | null };

/** Where a user's state record is kept. */
const STATE_KEY_PREFIX = '\u0000';
const stateKey = (name: string) => STATE_KEY_PREFIX + name;

/** A name that would be taken for a state record's key is refused. */
function refuseStateKeyNames(users: readonly TwoFaUser[]): void {
  for (const u of users) if (u.name.startsWith(STATE_KEY_PREFIX)) throw new UserStoreError('a 2FA user name cannot start with a NUL character');
}

/** The writes that remove a user: the whole record and any state record. */
const removal = (name: string): Op[] => [
  { type: 'del', key: name },
  { type: 'del', key: stateKey(name) },
];

const stateRecord = (u: TwoFaUser): StateRecord => ({
  counter: u.counter,
  skew: u.skew,
  skewHistory: u.skewHistory,
  lastStep: u.lastStep ?? null,
  failures: u.failures,
  lockedUntil: u.lockedUntil ?? null,
  lastLogin: u.lastLogin ?? null,
});

/** A stored record with its newer state folded in. */
function withState(stored: StoredUser, s: StateRecord): StoredUser {
  return { ...stored, ...s, lastStep: s.lastStep ?? undefined, lockedUntil: s.lockedUntil ?? undefined, lastLogin: s.lastLogin ?? undefined };
}

/** Whether `next` differs from `prev` in its state alone (the sealed secrets, kind, address and dates as they were). */
const stateOnly = (prev: TwoFaUser, next: TwoFaUser) =>
  prev.secret === next.secret && prev.scratch === next.scratch && prev.kind === next.kind && prev.email === next.email && prev.created === next.created && prev.name === next.name;

/**
 * One user in memory: the stored form, the unsealed one once somebody asked for it, and whether a state
 * record exists. Once `user` is there it is the record; `stored` is then kept for its sealed part only
 * (a login does not make a new one: its state fields may be older than `user`'s).
 */
interface Entry {
  stored: StoredUser;
  user: TwoFaUser | undefined;
  hasState: boolean;
}

/** The key file of the users' secrets (the shared store gets the key from this store: stores.ts). */
const KEY_FILE = '.2fa.key';
const DB_DIR = '.2fa-users';
/**
 * LevelDB's memtable and log size before they are flushed into a table (its default is 4 MiB). Every
 * login rewrites a user's state record, and with user names spread over the whole key range each flushed
 * table overlaps the rest, so compaction rewrites the whole store each time a few tables have piled
 * up: the smaller the buffer, the more often. 256 KiB cost about 7 µs of the background thread's CPU
 * per login, 1 MiB about 2 µs more than 4 MiB; and the log, at most this size, must leave room on a
 * small flash (4 MiB holds the store, its log and a compaction at 1 MiB, not at 4).
 */
const WRITE_BUFFER = 1024 * 1024;
/** Records unsealed per turn of the event loop by the background pass (about 6 ms of work). */
const UNSEAL_SLICE = 1000;

/** A queued write; the value is the record's JSON (the `utf8` encoding: the json one costs twice as much per record). */
type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

export class LevelUserStore implements UserStore {
  private readonly users = new Map<string, Entry>();
  private readonly commits = new GroupCommit<Op>((ops) => this.writeBatch(ops));
  private closed = false;

  private constructor(
    private readonly db: Level<string, string>,
    /** The key of `.2fa.key` that seals the users' secrets (a shared store seals with the same one). */
    readonly key: Buffer,
  ) {}

  /** Opens (creating) the store in `flashDir`; a second process gets a clear error. */
  static async open(flashDir: string): Promise<LevelUserStore> {
    let key: Buffer;
    try {
      key = loadKeyFile(flashDir, KEY_FILE);
    } catch (e) {
      throw new UserStoreError(`cannot read the 2FA store key: ${(e as Error).message}`, { cause: e });
    }
    const db = new Level<string, string>(join(flashDir, DB_DIR), { valueEncoding: 'utf8', writeBufferSize: WRITE_BUFFER });
    try {
      await db.open();
    } catch (e) {
      const locked = (e as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
      throw new UserStoreError(locked ? 'the 2FA user store is in use by another process' : `cannot open the 2FA user store: ${(e as Error).message}`, { cause: e });
    }
    const store = new LevelUserStore(db, key);
    // State records sort first (NUL): kept until their user's whole record comes by.
    const states = new Map<string, StateRecord>();
    for await (const [key, json] of db.iterator()) {
      if (key.startsWith(STATE_KEY_PREFIX)) {
        states.set(key.slice(STATE_KEY_PREFIX.length), JSON.parse(json) as StateRecord);
        continue;
      }
      const state = states.get(key);
      const stored = JSON.parse(json) as StoredUser;
      store.users.set(key, { stored: state ? withState(stored, state) : stored, user: undefined, hasState: state !== undefined });
    }
    return store;
  }

  /**
   * Unseals every record, a slice at a time between other work (the appliance calls it once it has
   * booted, so that the boot does not wait for it): soon no login pays for opening its user's sealed
   * secrets (about 6 µs a user).
   */
  unsealInBackground(): void {
    const pending = [...this.users.values()];
    let next = 0;
    const slice = () => {
      if (this.closed) return;
      for (const end = Math.min(next + UNSEAL_SLICE, pending.length); next < end; next++) {
        const entry = pending[next]!;
        // A record replaced meanwhile was unsealed (or written) by whoever replaced it.
        try {
          if (this.users.get(entry.stored.name) === entry) this.unsealed(entry);
        } catch {
          // Left sealed: whoever asks for it gets the error, as without this warm-up.
        }
      }
      if (next < pending.length) setImmediate(slice).unref();
    };
    setImmediate(slice).unref();
  }

  private unsealed(entry: Entry): TwoFaUser {
    if (!entry.user) {
      const { sealed, ...rest } = entry.stored;
      const secrets = JSON.parse(open(this.key, Buffer.from(sealed, 'base64'), Buffer.from(rest.name)).toString('utf8')) as { secret: string; scratch: string[] };
      entry.user = { ...rest, secret: secrets.secret, scratch: secrets.scratch };
    }
    return entry.user;
  }

  /** The stored form of `user`; its sealed part is reused while the secret and scratch codes are unchanged. */
  private stored(user: TwoFaUser, previous: Entry | undefined): StoredUser {
    const { secret, scratch, ...rest } = user;
    const same = previous?.user !== undefined && previous.user.secret === secret && previous.user.scratch === scratch;
    // The name is bound as associated data: a sealed blob copied to another user does not open.
    const sealed = same ? previous!.stored.sealed : seal(this.key, Buffer.from(JSON.stringify({ secret, scratch })), Buffer.from(user.name)).toString('base64');
    // `rest` is a fresh object: completed in place rather than copied once more.
    return Object.assign(rest, { sealed });
  }

  async get(name: string): Promise<TwoFaUser | undefined> {
    const entry = this.users.get(name);
    return entry && this.unsealed(entry);
  }

  async list(): Promise<TwoFaUser[]> {
    return [...this.users.values()].map((e) => this.unsealed(e)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async put(...users: TwoFaUser[]): Promise<void> {
    refuseStateKeyNames(users);
    const entries = users.map((u) => ({ stored: this.stored(u, this.users.get(u.name)), user: u, hasState: false }));
    await this.write(entries.flatMap((e) => this.wholeRecord(e.stored)));
    for (const e of entries) this.users.set(e.user.name, e);
  }

  /**
   * The writes of a whole record (before the entry in memory is replaced); the user's state record,
   * which it supersedes, is removed in the same batch.
   */
  private wholeRecord(stored: StoredUser): Op[] {
    const put: Op = { type: 'put', key: stored.name, value: JSON.stringify(stored) };
    return this.users.get(stored.name)?.hasState ? [put, { type: 'del', key: stateKey(stored.name) }] : [put];
  }

  async create(user: TwoFaUser): Promise<boolean> {
    // One process owns this store and the facade runs a user's changes one at a time.
    if (this.users.has(user.name)) return false;
    await this.put(user);
    return true;
  }

  async update(prev: TwoFaUser, next: TwoFaUser, opts: { durable?: boolean } = {}): Promise<boolean> {
    const entry = this.users.get(prev.name);
    // One process owns this store and the facade runs a user's changes one at a time, so the record
    // is still `prev` unless an administrator replaced or deleted it meanwhile.
    if (!entry || entry.user !== prev) return false;
    // A login's change: its state alone, about a third of the bytes (less to log, sync and compact),
    // and no new stored form in memory either (one object less per login for the garbage collector).
    const state = stateOnly(prev, next);
    const stored = state ? entry.stored : this.stored(next, entry);
    const written = this.write(state ? [{ type: 'put', key: stateKey(next.name), value: JSON.stringify(stateRecord(next)) }] : this.wholeRecord(stored));
    if (opts.durable === false) {
      written.catch(() => undefined);
    } else await written;
    entry.stored = stored;
    entry.user = next;
    entry.hasState = state;
    return true;
  }

  async delete(...names: string[]): Promise<void> {
    await this.write(names.flatMap(removal));
    for (const n of names) this.users.delete(n);
  }

  async replaceAll(users: readonly TwoFaUser[]): Promise<void> {
    const keep = new Set(users.map((u) => u.name));
    refuseStateKeyNames(users);
    const gone = [...this.users.keys()].filter((n) => !keep.has(n));
    const entries = users.map((u): Entry => ({ stored: this.stored(u, undefined), user: u, hasState: false }));
    await this.write([
      ...gone.flatMap(removal),
      ...entries.flatMap((e) => this.wholeRecord(e.stored)),
    ]);
    this.users.clear();
    for (const e of entries) this.users.set(e.stored.name, e);
  }

  private write(ops: Op[]): Promise<void> {
    return this.commits.add(ops);
  }

  /** Synced batches and the changes they carried (bench). */
  get stats(): { readonly batches: number; readonly changes: number } {
    return this.commits.stats;
  }

  /** One synced LevelDB batch (util/group-commit.ts decides what goes into it). */
  private async writeBatch(ops: readonly Op[]): Promise<void> {
    // The chained form skips the array form's per-operation option merging and checks.
    const batch = this.db.batch();
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
    try {
      await batch.write({ sync: true });
    } catch (e) {
      // LevelDB says `IO error: FILE: No space left on device`; keep the cause, not the path.
      throw new StoreWriteError((e as Error).message.replace(/^IO error: \S+: /, ''), { cause: e });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.commits.settled();
    await this.db.close();
  }
}
