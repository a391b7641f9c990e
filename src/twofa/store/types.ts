/**
 * The 2FA user store as the engine sees it: one interface, whatever keeps the records (SPEC §10,
 * §16). Every write resolves only once it is durable, so a caller that waits for it may answer.
 */
import type { TwoFaUser } from '../types.ts';

export interface UserStore {
  get(name: string): Promise<TwoFaUser | undefined>;
  /** Every user, sorted by name. */
  list(): Promise<TwoFaUser[]>;
  /** Stores users; resolves once they are on disk. */
  put(...users: TwoFaUser[]): Promise<void>;
  /** Deletes users; resolves once that is on disk. */
  delete(...names: string[]): Promise<void>;
  /** Replaces the whole store in one atomic write (import `replace`). */
  replaceAll(users: readonly TwoFaUser[]): Promise<void>;
  /** Waits for pending writes and closes. */
  close(): Promise<void>;
}

/** The store could not be opened (another process holds it, or the key is unreadable). */
export class UserStoreError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'UserStoreError';
  }
}
