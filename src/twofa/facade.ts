/**
 * The 2FA facade (aesthetics.md §8): the CLI features create, change, show, export and import users
 * through it, and every front door checks codes through it. Every state change is on disk before the
 * promise resolves (SPEC §10), and each user's operations run one at a time, so two requests carrying
 * the same code cannot both pass.
 */
import type { Clock } from '../util/clock.ts';
import { isMailbox } from '../util/email-address.ts';
import { fetchSource } from '../util/fetch-source.ts';
import type { Flash } from '../util/flash.ts';
import type { Log } from '../util/log.ts';
import type { EmailOtp, IssueResult } from './email-otp.ts';
import { base32Decode, randomScratchCodes, randomSecret, scratchIndex, timeStep } from './otp.ts';
import { StoreUnavailableError, type UserStore } from './store/types.ts';
import { newUser, type TwoFaSettings, type TwoFaUser } from './types.ts';
import { decodeUserData, encodeUserData } from './user-data.ts';
import { failed, type SkewSearch, verifyCode, type VerifyOutcome, type VerifyReason } from './verifier.ts';

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

export type CheckReason = VerifyReason | 'no-user' | 'skip-2fa' | 'no-code' | 'store-write-failed';

/** How `CodeCheck.accept` ended: the code spent, or why the login must be refused after all. */
export type AcceptResult = { readonly ok: true } | { readonly ok: false; readonly reason: CheckReason };

/**
 * A code checked for a login whose first factor may still be pending. A good code is held: nothing of
 * it is spent until the caller says how the whole login ended (`accept` or `refuse`), and the user's
 * other attempts wait until then. A bad code is already counted; `accept`/`refuse` do nothing for it.
 */
export interface CodeCheck {
  readonly ok: boolean;
  readonly reason: CheckReason;
  /**
   * The login is accepted: the code is spent, durably, and the login stamped. Refused instead when the
   * change cannot be written, or when the record changed meanwhile and the code no longer passes
   * (another appliance on a shared store spent it first).
   */
  accept(): Promise<AcceptResult>;
  /** The first factor refused: the code stays unused and the attempt counts toward the lockout. */
  refuse(): Promise<void>;
  /** The first factor could not be asked (no server answered): the code stays unused, nothing is counted. */
  abandon(): Promise<void>;
}

/**
 * SPEC §5 policy for a login: what the second factor must be. `email-or-reject` and
 * `email-or-first-factor`: e-mail OTP is on and no address is registered, but the first factor may
 * give one (an LDAP `email-attribute`): a code goes there once the first factor passed; without an
 * address the user is rejected, or logs in with the first factor alone (what `reject` and
 * `first-factor` would have said).
 */
export type Policy = 'code' | 'skip' | 'email' | 'reject' | 'first-factor' | 'email-or-reject' | 'email-or-first-factor';

/** What mailing a code gave: the code to bind to a challenge, or why none went out. */
export type MailResult = IssueResult | { readonly ok: false; readonly reason: 'mail-bad-address' };

/** Counters shown by `show 2fa`. */
export interface TwoFaCounters {
  accepted: number;
  rejected: number;
  lockouts: number;
  scratchUsed: number;
  skewLearned: number;
}

const settled = (ok: boolean, reason: CheckReason): CodeCheck => ({
  ok,
  reason,
  accept: async () => (ok ? { ok } : { ok, reason }),
  refuse: async () => {},
  abandon: async () => {},
});

/**
 * Whether a login's change touches security state (used step, counter, scratch codes, skew, failures,
 * lockout) and must be on disk before the Accept leaves (SPEC §10), or only the last-login stamp.
 */
function changesSecurityState(a: TwoFaUser, b: TwoFaUser): boolean {
  const same = <T>(x: readonly T[], y: readonly T[], eq: (p: T, q: T) => boolean) => x === y || (x.length === y.length && x.every((v, i) => eq(v, y[i]!)));
  return !(
    a.lastStep === b.lastStep &&
    a.counter === b.counter &&
    a.skew === b.skew &&
    a.lockedUntil === b.lockedUntil &&
    same(a.scratch, b.scratch, (p, q) => p === q) &&
    same(a.failures, b.failures, (p, q) => p === q) &&
    same(a.skewHistory, b.skewHistory, (p, q) => p.step === q.step && p.skew === q.skew)
  );
}

/** Re-decisions after a conflicting change before giving up (a shared store under a race). */
const MAX_RETRIES = 3;
/** Re-reads of an administrator's change whose record changed meanwhile (logins of that user elsewhere). */
const ADMIN_RETRIES = 20;

export class TwoFactor {
  readonly counters: TwoFaCounters = { accepted: 0, rejected: 0, lockouts: 0, scratchUsed: 0, skewLearned: 0 };
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: UserStore,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly settings: () => TwoFaSettings,
    private readonly flash: Flash,
    /** The worst-case skew search (skewOf), off the event loop in the appliance. */
    private readonly searchSkew: SkewSearch,
    /** E-mail OTP (SPEC §7); absent where no mail can be sent (engine tests). */
    readonly email?: EmailOtp,
  ) {}

  get(name: string): Promise<TwoFaUser | undefined> {
    return this.store.get(name);
  }

  list(): Promise<TwoFaUser[]> {
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

  private async require(name: string): Promise<TwoFaUser> {
    const u = await this.store.get(name);
    if (!u) throw new TwoFaError('no-such-user', name);
    return u;
  }

  /** `2fa create user`: a TOTP/HOTP user with 5 scratch codes, or a skip-2fa user. */
  createUser(name: string, options: CreateOptions): Promise<TwoFaUser> {
    return this.serial(name, async () => {
      const existing = await this.store.get(name);
      // An address-only user may be given a TOTP/HOTP secret; the address stays.
      if (existing && existing.kind !== 'email') throw new TwoFaError('exists', name);
      const user = options.skip
        ? newUser(name, 'skip', this.clock.now(), { email: existing?.email })
        : newUser(name, options.hotp ? 'hotp' : 'totp', this.clock.now(), {
            secret: options.secret === undefined ? randomSecret() : normaliseSecret(options.secret, name),
            scratch: randomScratchCodes(),
            email: existing?.email,
          });
      // Compare-and-set, not an overwrite: on a shared store another appliance may have created (or
      // registered) the same name since the read, and its secret must not be replaced unseen.
      if (!(existing ? await this.store.update(existing, user) : await this.store.create(user))) throw new TwoFaError('exists', name);
      this.log.info('2fa-user-created', { user: name, type: user.kind });
      return user;
    });
  }

  deleteUser(name: string): Promise<void> {
    return this.serial(name, async () => {
      await this.require(name);
      await this.store.delete(name);
      this.log.info('2fa-user-deleted', { user: name });
    });
  }

  /**
   * An administrator's change of an existing record, compare-and-set like a login's: on a shared
   * store another appliance may spend a code of this user between the read and the write, and a plain
   * overwrite would bring that code back (SPEC §16). Read again and redone when that happened.
   */
  private async amend(name: string, change: (u: TwoFaUser) => TwoFaUser): Promise<TwoFaUser> {
    for (let attempt = 0; ; attempt++) {
      const u = await this.require(name);
      const next = change(u);
      if (await this.store.update(u, next)) return next;
      if (attempt >= ADMIN_RETRIES) throw new Error(`2FA user ${name} kept changing; try again`);
    }
  }

  /** `2fa reset scratch-codes`: five new codes; the old ones stop working. */
  resetScratch(name: string): Promise<readonly string[]> {
    return this.serial(name, async () => {
      const next = await this.amend(name, (u) => {
        if (u.kind !== 'totp' && u.kind !== 'hotp') throw new TwoFaError('not-applicable', name);
        return { ...u, scratch: randomScratchCodes() };
      });
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
      const tm = timeStep(this.clock.now());
      await this.amend(name, (u) => {
        const lastStep = u.lastStep !== undefined && u.lastStep > tm + this.settings().totpWindow ? undefined : u.lastStep;
        return { ...u, skew: 0, skewHistory: [], lastStep };
      });
      this.log.info('2fa-skew-reset', { user: name });
    });
  }

  /** `clear 2fa lockout`: the user may log in again at once; the failures so far are forgotten. */
  clearLockout(name: string, by: string): Promise<void> {
    return this.serial(name, async () => {
      let wasLocked = false;
      await this.amend(name, (u) => {
        wasLocked = u.lockedUntil !== undefined && u.lockedUntil > this.clock.now();
        return { ...u, failures: [], lockedUntil: undefined };
      });
      this.log.info('2fa-lockout-cleared', { user: name, by, wasLocked });
    });
  }

  /**
   * `2fa user NAME email ADDRESS` / `no 2fa user NAME email`. A name without a record gets an
   * address-only (`email`) record; removing the address of such a record removes the record.
   */
  setEmail(name: string, email: string | undefined): Promise<void> {
    return this.serial(name, async () => {
      const existing = await this.store.get(name);
      if (!existing && email === undefined) throw new TwoFaError('no-such-user', name);
      if (existing?.kind === 'email' && email === undefined) await this.store.delete(name);
      else if (existing) await this.amend(name, (u) => ({ ...u, email }));
      else await this.store.put({ ...newUser(name, 'email', this.clock.now()), email });
      this.log.info('2fa-email-set', { user: name, set: email !== undefined });
    });
  }

  /**
   * SPEC §5: which second factor a login of `name` needs. `firstFactorMayGiveEmail`: the login's first
   * factor can tell the user's address (AW+ manual 電子メールアドレスの取得方法を設定します).
   */
  async policy(name: string, o: { readonly firstFactorMayGiveEmail?: boolean } = {}): Promise<Policy> {
    const u = await this.store.get(name);
    if (u?.kind === 'skip') return 'skip';
    if (u?.kind === 'totp' || u?.kind === 'hotp') return 'code';
    const s = this.settings();
    // No TOTP/HOTP record: a mailed code when e-mail OTP is on and an address is known.
    if (s.emailOtp && u?.email) return 'email';
    const without = s.rejectUnconfigured ? 'reject' : 'first-factor';
    // AW+ manual: with e-mail OTP on, users without TOTP/HOTP are e-mail OTP users; the address may
    // still come from the directory, which is known only after the first factor.
    if (s.emailOtp && o.firstFactorMayGiveEmail) return without === 'reject' ? 'email-or-reject' : 'email-or-first-factor';
    return without;
  }

  /** Whether `name`'s record is locked out now (the lockout code checks count into). False without a record. */
  async lockedOut(name: string): Promise<boolean> {
    const u = await this.store.get(name);
    return u?.lockedUntil !== undefined && u.lockedUntil > this.clock.now();
  }

  /**
   * A wrong password for `name` at a front door that asks no code first (the self-registration page):
   * counted, durably, toward the same lockout as a refused code (SPEC §8: failures count in the same
   * per-user lockout as RADIUS). False, and nothing counted, when `name` has no record.
   */
  passwordFailed(name: string): Promise<boolean> {
    return this.serial(name, async () => {
      const user = await this.store.get(name);
      if (!user) return false;
      const counted = await this.storeFailure(user, this.clock.now());
      if (counted) this.noteLockout(counted.user, counted.outcome);
      return true;
    });
  }

  /**
   * Mails a code (policies 'email', 'email-or-…'); the caller binds it to its challenge. The address
   * registered with `2fa user NAME email` wins; `fromFirstFactor` (the directory's) is used without one.
   */
  async mailCode(name: string, fromFirstFactor?: string): Promise<MailResult> {
    const registered = (await this.store.get(name))?.email;
    const address = registered ?? fromFirstFactor;
    if (!this.email || !address) return { ok: false, reason: 'mail-failed' };
    // Typed addresses were checked by the CLI; a directory's is checked here (one recipient, no list).
    if (registered === undefined && !isMailbox(address)) {
      this.log.error('email-otp-bad-address', { user: name, from: 'directory' });
      return { ok: false, reason: 'mail-bad-address' };
    }
    return this.email.issue(name, address, this.settings().label);
  }

  /**
   * Whether `code` is one of the user's unused scratch codes, without using it: tells `<password><8 digits>`
   * from `<password + 2 characters><6 digits>` (libpam forward_pass tries both; this avoids a failed try).
   */
  async hasScratchCode(name: string, code: string): Promise<boolean> {
    const u = await this.store.get(name);
    return u !== undefined && scratchIndex(u.scratch, code) >= 0;
  }

  /**
   * Checks a code (TOTP/HOTP or scratch) for `name` at appliance time `now`, holding a good one until
   * the caller accepts or refuses the login (AW+ order: the code first, then the first factor). A bad
   * code's failure is on disk before this resolves.
   */
  check(name: string, input: string, now: number = this.clock.now()): Promise<CodeCheck> {
    return new Promise<CodeCheck>((resolve, reject) => {
      void this.serial(name, async () => {
        try {
          const judged = await this.judge(name, input, now);
          if (judged.kind === 'settled') return resolve(settled(judged.ok, judged.reason));
          // Held: the user's next operation waits until this login is accepted or refused.
          await new Promise<void>((release) => resolve(this.hold(judged.user, input, judged.outcome, now, release)));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  /** The code judged for the user's current record; a bad one's failure is on disk when this resolves. */
  private async judge(name: string, input: string, now: number): Promise<{ kind: 'settled'; ok: boolean; reason: CheckReason } | { kind: 'good'; user: TwoFaUser; outcome: VerifyOutcome }> {
    const user = await this.store.get(name);
    if (!user) return { kind: 'settled', ok: false, reason: 'no-user' };
    if (user.kind === 'skip') return { kind: 'settled', ok: true, reason: 'skip-2fa' };
    if (user.kind === 'email') return { kind: 'settled', ok: false, reason: 'no-code' };
    const outcome = await verifyCode(user, input, now, this.settings(), base32Decode(user.secret)!, this.searchSkew);
    if (!outcome.ok) {
      await this.fail(user, outcome);
      return { kind: 'settled', ok: false, reason: outcome.reason };
    }
    return { kind: 'good', user, outcome };
  }

  private hold(user: TwoFaUser, input: string, outcome: VerifyOutcome, now: number, release: () => void): CodeCheck {
    let done: Promise<AcceptResult> | undefined;
    const once = (work: () => Promise<AcceptResult>) => (done ??= work().finally(release));
    const refused: AcceptResult = { ok: false, reason: 'bad-code' };
    return {
      ok: true,
      reason: outcome.reason,
      accept: () => once(() => this.spend(user, input, outcome, now)),
      refuse: async () => {
        await once(async () => {
          // A captured code must not become a password oracle: the refusal counts toward the lockout.
          await this.failLatest(user, now, 'first-factor-reject');
          return refused;
        });
      },
      abandon: async () => {
        await once(async () => refused);
      },
    };
  }

  /**
   * Makes a held code's change durable. When the record changed underneath (a shared store: another
   * appliance spent the same code first), the code is judged again on the new record.
   */
  private async spend(user: TwoFaUser, input: string, outcome: VerifyOutcome, now: number): Promise<AcceptResult> {
    let current = user;
    let next = outcome;
    for (let attempt = 0; ; attempt++) {
      const written = await this.update(current, next.next);
      if (written === 'written') break;
      if (written === 'failed' || attempt >= MAX_RETRIES) {
        this.counters.rejected++;
        this.log.info('2fa-verify', { user: user.name, result: 'reject', reason: 'store-write-failed' });
        return { ok: false, reason: 'store-write-failed' };
      }
      const fresh = await this.store.get(user.name);
      if (!fresh || (fresh.kind !== 'totp' && fresh.kind !== 'hotp')) return { ok: false, reason: 'no-user' };
      current = fresh;
      next = await verifyCode(fresh, input, now, this.settings(), base32Decode(fresh.secret)!, this.searchSkew);
      if (!next.ok) {
        await this.fail(fresh, next);
        return { ok: false, reason: next.reason };
      }
    }
    this.counters.accepted++;
    if (next.reason === 'ok-scratch') this.counters.scratchUsed++;
    if (next.learnedSkew !== undefined) {
      this.counters.skewLearned++;
      this.log.info('2fa-skew-learned', { user: user.name, skew: next.learnedSkew });
    }
    this.log.info('2fa-verify', { user: user.name, result: 'accept', reason: next.reason });
    return { ok: true };
  }

  /**
   * Counts a failed attempt on the newest record (retried when another writer got there first): the
   * record it was counted on and the outcome; undefined when the record is gone or the retries ran out.
   */
  private async storeFailure(user: TwoFaUser, now: number): Promise<{ user: TwoFaUser; outcome: VerifyOutcome } | undefined> {
    let current: TwoFaUser | undefined = user;
    for (let attempt = 0; current && attempt <= MAX_RETRIES; attempt++) {
      const outcome = failed(current, 'bad-code', now, this.settings());
      if ((await this.update(current, outcome.next)) !== 'conflict') return { user: current, outcome };
      current = await this.store.get(user.name);
    }
    return undefined;
  }

  /** Counts a failed attempt on the newest record and records it. */
  private async failLatest(user: TwoFaUser, now: number, reason: string): Promise<void> {
    const counted = await this.storeFailure(user, now);
    if (counted) this.noteFailure(counted.user, counted.outcome, reason);
  }

  /** Records a failed attempt (and a lockout it starts). */
  private async fail(user: TwoFaUser, outcome: VerifyOutcome, reason: string = outcome.reason): Promise<void> {
    if (outcome.next !== user && (await this.update(user, outcome.next)) === 'conflict') {
      return this.failLatest(user, this.clock.now(), reason);
    }
    this.noteFailure(user, outcome, reason);
  }

  private noteFailure(user: TwoFaUser, outcome: VerifyOutcome, reason: string): void {
    this.counters.rejected++;
    this.noteLockout(user, outcome);
    this.log.info('2fa-verify', { user: user.name, result: 'reject', reason });
  }

  /** Counts and logs the lockout a failure starts, if it starts one. */
  private noteLockout(user: TwoFaUser, outcome: VerifyOutcome): void {
    if (!outcome.lockedOut) return;
    this.counters.lockouts++;
    this.log.info('2fa-locked-out', { user: user.name, until: new Date(outcome.next.lockedUntil!).toISOString() });
  }

  /**
   * A login's change of one record: durable before it resolves when it touches security state, not
   * waited for when it only stamps the last login. A write error is logged and reported as 'failed'
   * (an accept then becomes a reject); 'conflict' when the record changed underneath.
   */
  private async update(prev: TwoFaUser, next: TwoFaUser): Promise<'written' | 'conflict' | 'failed'> {
    try {
      return (await this.store.update(prev, next, { durable: changesSecurityState(prev, next) })) ? 'written' : 'conflict';
    } catch (e) {
      // A shared store that cannot answer refuses every login until it is back; it logs that once
      // per outage, and the front door answers `store-unavailable` (auth/login.ts).
      if (e instanceof StoreUnavailableError) throw e;
      this.log.error('2fa-store-write-failed', { user: next.name, message: (e as Error).message });
      return 'failed';
    }
  }

  /**
   * Checks a code and, if good, spends it at once (no first factor to wait for): `check` then
   * `accept`, without holding the user in between (nothing else can come between them).
   */
  verify(name: string, input: string, now: number = this.clock.now()): Promise<{ ok: boolean; reason: CheckReason }> {
    return this.serial(name, async () => {
      const judged = await this.judge(name, input, now);
      if (judged.kind === 'settled') return { ok: judged.ok, reason: judged.reason };
      const spent = await this.spend(judged.user, input, judged.outcome, now);
      return spent.ok ? { ok: true, reason: judged.outcome.reason } : { ok: false, reason: spent.reason };
    });
  }

  /** `2fa export user-data`: every user, encrypted with `password`, in a new flash file. */
  exportToFlash(password: string): Promise<{ file: string; users: number }> {
    return this.quiesced(async () => {
      const users = await this.store.list();
      const now = this.clock.now();
      const day = new Date(now).toISOString().slice(0, 10).replace(/-/g, '');
      let file: string;
      do file = `atl2fausers-${day}-${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}.dat`;
      while (this.flash.exists(file));
      this.flash.write(file, await encodeUserData(users, password, now));
      this.log.info('2fa-users-exported', { users: users.length, file });
      return { file, users: users.length };
    });
  }

  /** Copies an exported file from `flash:/`, `tftp://`, `http://` or `https://` (SPEC §9); `signal` aborts it. */
  fetchUserData(url: string, signal?: AbortSignal): Promise<Buffer> {
    return fetchSource(url, this.flash, signal);
  }

  /**
   * Imports an exported file (SPEC §9): merged (imported records win for the same name) or, with
   * `replace`, as the whole store in one atomic write. Throws UserDataError before touching the store.
   */
  async importUserData(file: Buffer, password: string, replace: boolean): Promise<number> {
    const users = await decodeUserData(file, password);
    return this.quiesced(async () => {
      if (replace) await this.store.replaceAll(users);
      else if (users.length) await this.store.put(...users);
      this.log.info('2fa-users-imported', { users: users.length, mode: replace ? 'replace' : 'merge' });
      return users.length;
    });
  }

  /** Runs `work` once every pending per-user operation has finished. */
  private async quiesced<T>(work: () => Promise<T>): Promise<T> {
    await Promise.all([...this.busy.values()]);
    return work();
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
