/**
 * The single 2FA facade (aesthetics.md §8): the CLI features create, change and show users through it,
 * and the RADIUS path calls `verify`. Every state change is on disk before the promise resolves
 * (SPEC §10), and each user's verifications run one at a time, so two requests carrying the same
 * code cannot both pass.
 */
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import { base32Decode, randomScratchCodes, randomSecret, sameCode, timeStep } from './otp.ts';
import type { TwoFaSettings, TwoFaUser } from './types.ts';
import type { UserStore } from './user-store.ts';
import type { EmailOtp, IssueResult } from './email-otp.ts';
import { verifyCode, type VerifyReason } from './verifier.ts';

/** Minimum secret size: 26 base32 characters = 128 bits (awplus-spec.md §2.2 [FOUND S1]: SECRET は26文字以上). */
export const MIN_SECRET_CHARS = 26;

/** Why a user operation was refused; the CLI turns the code into its `% ` message. */
export class TwoFaError extends Error {
  constructor(
    readonly code: 'exists' | 'no-such-user' | 'bad-secret' | 'short-secret' | 'not-applicable',
    readonly user: string,
  ) {
    super(`${code}: ${user}`);
    this.name = 'TwoFaError';
  }
}

/** What `createUser` makes. */
export type CreateOptions = { readonly skip: true } | { readonly skip?: false; readonly secret?: string; readonly hotp?: boolean };

/** A verification as the caller sees it. */
export interface VerifyResult {
  readonly ok: boolean;
  readonly reason: VerifyReason | 'no-user' | 'skip-2fa' | 'no-code';
}

/** SPEC §5 policy for a login: what the second factor must be. */
export type Policy = 'code' | 'skip' | 'email' | 'reject' | 'first-factor';

/** Counters shown by `show 2fa`. */
export interface TwoFaCounters {
  accepted: number;
  rejected: number;
  lockouts: number;
  scratchUsed: number;
  skewLearned: number;
}

/** The 2FA engine facade. */
export class TwoFactorService {
  readonly counters: TwoFaCounters = { accepted: 0, rejected: 0, lockouts: 0, scratchUsed: 0, skewLearned: 0 };
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: UserStore,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly settings: () => TwoFaSettings,
    /** E-mail OTP (SPEC §7); absent where no mail can be sent (engine tests). */
    readonly email?: EmailOtp,
  ) {}

  get(name: string): TwoFaUser | undefined {
    return this.store.get(name);
  }

  list(): TwoFaUser[] {
    return this.store.list();
  }

  /** Runs `work` after every earlier operation on the same user has finished. */
  private serial<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.busy.get(name) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.busy.set(name, tail);
    void tail.then(() => {
      if (this.busy.get(name) === tail) this.busy.delete(name);
    });
    return run;
  }

  private require(name: string): TwoFaUser {
    const u = this.store.get(name);
    if (!u) throw new TwoFaError('no-such-user', name);
    return u;
  }

  /** `2fa create user`: a TOTP/HOTP user with 5 scratch codes, or a skip-2fa user. */
  createUser(name: string, options: CreateOptions): Promise<TwoFaUser> {
    return this.serial(name, async () => {
      const existing = this.store.get(name);
      // An address-only user may be given a TOTP/HOTP secret; the address stays.
      if (existing && existing.kind !== 'email') throw new TwoFaError('exists', name);
      let secret = '';
      if (!options.skip) {
        secret = options.secret === undefined ? randomSecret() : normaliseSecret(options.secret, name);
      }
      const user: TwoFaUser = {
        name,
        kind: options.skip ? 'skip' : options.hotp ? 'hotp' : 'totp',
        secret,
        counter: 1,
        scratch: options.skip ? [] : randomScratchCodes(),
        skew: 0,
        skewHistory: [],
        lastStep: undefined,
        email: existing?.email,
        failures: [],
        lockedUntil: undefined,
        lastLogin: undefined,
        created: this.clock.now(),
      };
      await this.store.put(user);
      this.log.info('2fa-user-created', { user: name, type: user.kind });
      return user;
    });
  }

  deleteUser(name: string): Promise<void> {
    return this.serial(name, async () => {
      this.require(name);
      await this.store.delete(name);
      this.log.info('2fa-user-deleted', { user: name });
    });
  }

  /** `2fa reset scratch-codes`: five new codes; the old ones stop working. */
  resetScratch(name: string): Promise<readonly string[]> {
    return this.serial(name, async () => {
      const u = this.require(name);
      if (u.kind !== 'totp' && u.kind !== 'hotp') throw new TwoFaError('not-applicable', name);
      const next = { ...u, scratch: randomScratchCodes() };
      await this.store.put(next);
      this.log.info('2fa-scratch-reset', { user: name });
      return next.scratch;
    });
  }

  /**
   * `2fa reset skew`: forgets the learned correction. A used-step mark that lies in the future of the
   * uncorrected clock (left by a positive skew) is dropped too, or the user would be refused for hours.
   */
  resetSkew(name: string): Promise<void> {
    return this.serial(name, async () => {
      const u = this.require(name);
      const tm = timeStep(this.clock.now());
      const lastStep = u.lastStep !== undefined && u.lastStep > tm + this.settings().totpWindow ? undefined : u.lastStep;
      await this.store.put({ ...u, skew: 0, skewHistory: [], lastStep });
      this.log.info('2fa-skew-reset', { user: name });
    });
  }

  /**
   * `2fa user NAME email ADDRESS` / `no 2fa user NAME email`. A name without a record gets an
   * address-only (`email`) record; removing the address of such a record removes the record.
   */
  setEmail(name: string, email: string | undefined): Promise<void> {
    return this.serial(name, async () => {
      const existing = this.store.get(name);
      if (!existing && email === undefined) throw new TwoFaError('no-such-user', name);
      if (existing?.kind === 'email' && email === undefined) await this.store.delete(name);
      else await this.store.put({ ...(existing ?? this.emailOnly(name)), email });
      this.log.info('2fa-email-set', { user: name, set: email !== undefined });
    });
  }

  private emailOnly(name: string): TwoFaUser {
    return {
      name,
      kind: 'email',
      secret: '',
      counter: 1,
      scratch: [],
      skew: 0,
      skewHistory: [],
      lastStep: undefined,
      email: undefined,
      failures: [],
      lockedUntil: undefined,
      lastLogin: undefined,
      created: this.clock.now(),
    };
  }

  /** SPEC §5: which second factor a login of `name` needs. */
  policy(name: string): Policy {
    const u = this.store.get(name);
    if (u?.kind === 'skip') return 'skip';
    if (u?.kind === 'totp' || u?.kind === 'hotp') return 'code';
    const s = this.settings();
    // No TOTP/HOTP record: a mailed code when e-mail OTP is on and an address is known.
    if (s.emailOtp && u?.email) return 'email';
    return s.rejectUnconfigured ? 'reject' : 'first-factor';
  }

  /** Mails a code to the user's address (policy 'email'); the caller binds it to its challenge. */
  mailCode(name: string): Promise<IssueResult> {
    const address = this.store.get(name)?.email;
    if (!this.email || !address) return Promise.resolve({ ok: false, reason: 'mail-failed' });
    return this.email.issue(name, address, this.settings().label);
  }

  /**
   * Whether `code` is one of the user's unused scratch codes, without using it: tells `<password><8 digits>`
   * from `<password + 2 characters><6 digits>` (libpam forward_pass tries both; this avoids a failed try).
   */
  hasScratchCode(name: string, code: string): boolean {
    const u = this.store.get(name);
    return u !== undefined && u.scratch.some((c) => sameCode(c, code));
  }

  /**
   * Checks a code (TOTP/HOTP or scratch) for `name` at appliance time `now`. Resolves only after the
   * state that makes the code single-use is on disk; a write failure turns an accept into a reject.
   */
  verify(name: string, input: string, now: number = this.clock.now()): Promise<VerifyResult> {
    return this.serial(name, async () => {
      const user = this.store.get(name);
      if (!user) return { ok: false, reason: 'no-user' as const };
      if (user.kind === 'skip') return { ok: true, reason: 'skip-2fa' as const };
      if (user.kind === 'email') return { ok: false, reason: 'no-code' as const };
      const key = base32Decode(user.secret)!;
      const outcome = await verifyCode(user, input, now, this.settings(), key);
      if (outcome.next !== user) {
        try {
          await this.store.put(outcome.next);
        } catch (e) {
          this.log.error('2fa-store-write-failed', { user: name, message: (e as Error).message });
          this.counters.rejected++;
          return { ok: false, reason: outcome.ok ? 'bad-code' : outcome.reason };
        }
      }
      if (outcome.ok) this.counters.accepted++;
      else this.counters.rejected++;
      if (outcome.reason === 'ok-scratch') this.counters.scratchUsed++;
      if (outcome.learnedSkew !== undefined) {
        this.counters.skewLearned++;
        this.log.info('2fa-skew-learned', { user: name, skew: outcome.learnedSkew });
      }
      if (outcome.lockedOut) {
        this.counters.lockouts++;
        this.log.info('2fa-locked-out', { user: name, until: new Date(outcome.next.lockedUntil!).toISOString() });
      }
      this.log.info('2fa-verify', { user: name, result: outcome.ok ? 'accept' : 'reject', reason: outcome.reason });
      return { ok: outcome.ok, reason: outcome.reason };
    });
  }

  /**
   * Imports users (SPEC §9): merged (imported records win for the same name) or, with `replace`, as the
   * whole store in one atomic batch. Pending verifications finish first.
   */
  async importUsers(users: readonly TwoFaUser[], replace: boolean): Promise<void> {
    await Promise.all([...this.busy.values()]);
    if (replace) await this.store.replaceAll([...users]);
    else if (users.length) await this.store.put(...users);
    this.log.info('2fa-users-imported', { users: users.length, mode: replace ? 'replace' : 'merge' });
  }

  /** Closes the store (after pending writes). */
  close(): Promise<void> {
    return this.store.close();
  }
}

/** A secret typed by an administrator: base32 (A-Z, 2-7), any case, spaces allowed, at least 26 characters. */
function normaliseSecret(text: string, user: string): string {
  const clean = text.replace(/\s+/g, '').replace(/=+$/, '').toUpperCase();
  if (!/^[A-Z2-7]+$/.test(clean)) throw new TwoFaError('bad-secret', user);
  if (clean.length < MIN_SECRET_CHARS) throw new TwoFaError('short-secret', user);
  return clean;
}
