/**
 * The 2FA user store as the engine sees it: one interface, whatever keeps the records (SPEC §10,
 * §16). Every durable write resolves only once it is on disk (or committed), so a caller that waits
 * for it may answer.
 */
import type { TwoFaUser } from '../types.ts';

export interface UserStore {
  get(name: string): Promise<TwoFaUser | undefined>;
  /** Every user, sorted by name. */
  list(): Promise<TwoFaUser[]>;
  /** Stores users (administrative changes); resolves once they are durable. */
  put(...users: TwoFaUser[]): Promise<void>;
  /**
   * Stores a user that does not exist yet: resolves true once durable, false (nothing written) when
   * the name is taken — on a shared store, by another appliance that created it meanwhile.
   */
  create(user: TwoFaUser): Promise<boolean>;
  /**
   * A login's change of one user: `next` replaces `prev` only if the stored record is still `prev`
   * (compare-and-set: nobody changed it meanwhile, e.g. another appliance on a shared store). Resolves
   * true once durable, false when the record had changed (the caller reads it again and decides again).
   * `durable: false` is for what is not security state (the last-login stamp): it may resolve before
   * the change is on disk.
   */
  update(prev: TwoFaUser, next: TwoFaUser, opts?: { readonly durable?: boolean }): Promise<boolean>;
  /** Deletes users; resolves once that is durable. */
  delete(...names: string[]): Promise<void>;
  /** Replaces the whole store in one atomic write (import `replace`). */
  replaceAll(users: readonly TwoFaUser[]): Promise<void>;
  /** Waits for pending writes and closes. */
  close(): Promise<void>;
}

/** A change could not be made durable (a full or failing flash): nothing of it took effect. */
export class StoreWriteError extends Error {
  constructor(readonly reason: string, options?: { cause: unknown }) {
    super(`cannot write the 2FA user store: ${reason}`, options);
    this.name = 'StoreWriteError';
  }
}

/** The store could not be opened (another process holds it, or the key is unreadable). */
export class UserStoreError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'UserStoreError';
  }
}

/**
 * The store cannot answer now (a shared store's server is unreachable, refuses us, or is too slow).
 * Logins that need the second factor are refused (fail closed, reason `store-unavailable`) and
 * administrative changes are refused with nothing changed; the store recovers by itself.
 * The message says why, and never carries a password.
 */
export class StoreUnavailableError extends UserStoreError {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
