/**
 * Logins to the CLI (console and SSH) against the `username` accounts: one check for both, with the
 * defences a router's login has. Unknown names are checked against a dummy hash, so timing does not
 * tell which names exist; every failure is logged and costs a delay before the answer. Guessing is
 * throttled twice (OWASP Authentication Cheat Sheet, "account lockout"; NIST SP 800-63B §5.2.2):
 * - per address: an address with too many recent failures is refused without checking;
 * - per account: too many recent failures for one account, from any addresses, and it is refused
 *   from addresses it has not logged in from — so many addresses cannot share out the guesses. One
 *   address counts for at most a few of those failures, so it alone can never throttle an account
 *   for everyone, and the addresses the account logged in from, and the console, stay open.
 */
import { hashPassword, type PasswordCheck } from '../util/crypt.ts';
import type { Log } from '../util/log.ts';

/** A local account as the login sees it. */
export interface Account {
  readonly name: string;
  readonly privilege: number;
  /** crypt(3) hash. */
  readonly hash: string;
}

/** What a front door tells about a login attempt. */
export interface CliLoginAttempt {
  readonly user: string;
  readonly password: string;
  readonly via: 'console' | 'ssh';
  /** The client's address (SSH); throttled per address. */
  readonly address?: string;
  /** Whether the account may use this front door (`ssh server allow-users`). */
  readonly allowed?: (name: string) => boolean;
}

/** A failed password waits this long before the client hears "no". */
export const LOGIN_FAILURE_DELAY_MS = 1000;
/** Failures from one address within THROTTLE_WINDOW_MS after which it is refused for that long. */
const THROTTLE_FAILURES = 5;
const THROTTLE_WINDOW_MS = 60_000;
/** Failures for one account within ACCOUNT_WINDOW_MS after which unknown addresses are refused for it. */
export const ACCOUNT_FAILURES = 10;
const ACCOUNT_WINDOW_MS = 10 * 60_000;
/** What one address may add to an account's count: below ACCOUNT_FAILURES, so it takes several addresses. */
const ADDRESS_SHARE = 3;
/** How long an address an account logged in from stays open to it while the account is throttled. */
const KNOWN_ADDRESS_MS = 30 * 24 * 3600_000;
/** Bounds on what is remembered (a flood of addresses or names must not grow memory without end). */
const MAX_TRACKED = 10_000;
const MAX_KNOWN_PER_ACCOUNT = 32;

/** A hash of nothing in particular, verified against for unknown users. */
const DUMMY_HASH = hashPassword('awplus-no-such-user');

/** Forgets the oldest keys of a Map (insertion order) beyond `max`. */
function bound<K, V>(map: Map<K, V>, max: number): void {
  for (const k of map.keys()) {
    if (map.size <= max) return;
    map.delete(k);
  }
}

export class CliLogin {
  /** Recent failure times by address. */
  private readonly failures = new Map<string, number[]>();
  /** Recent failures by account name (existing or not): time and address. */
  private readonly accountFailures = new Map<string, { t: number; address: string }[]>();
  /** Addresses each account logged in from, with the time of the last success. */
  private readonly knownAddresses = new Map<string, Map<string, number>>();
  /**
   * Attempts whose password is being checked now (in a worker thread): by address, and each account's
   * with the address it came from. They count as failures until answered, so attempts that arrive
   * together cannot all pass the throttle before any of them has failed. At most the checker's queue
   * (util/worker-pool.ts) is in here at once.
   */
  private readonly checking = new Map<string, number>();
  private readonly checkingAccount = new Map<string, string[]>();

  constructor(
    private readonly accounts: () => ReadonlyMap<string, Account>,
    private readonly checkPassword: PasswordCheck,
    private readonly log: Log,
    /** A monotonic clock (ms) for the throttle windows. */
    private readonly monotonic: () => number,
    private readonly delayMs = LOGIN_FAILURE_DELAY_MS,
    private readonly maxTracked = MAX_TRACKED,
  ) {}

  /** How many addresses and account names are remembered now (bounded by `maxTracked` each). */
  tracked(): { addresses: number; accounts: number } {
    return { addresses: this.failures.size, accounts: this.accountFailures.size };
  }

  private throttled(address: string | undefined, now: number): boolean {
    if (address === undefined) return false;
    const recent = (this.failures.get(address) ?? []).filter((t) => t > now - THROTTLE_WINDOW_MS);
    if (recent.length) this.failures.set(address, recent);
    else this.failures.delete(address);
    return recent.length + (this.checking.get(address) ?? 0) >= THROTTLE_FAILURES;
  }

  /** Whether `user` is throttled for `address`: too many recent failures, and not an address it used. */
  private accountThrottled(user: string, address: string | undefined, now: number): boolean {
    if (address === undefined) return false; // the console: never locked out
    const recent = (this.accountFailures.get(user) ?? []).filter((f) => f.t > now - ACCOUNT_WINDOW_MS);
    if (recent.length) this.accountFailures.set(user, recent);
    else this.accountFailures.delete(user);
    const per = new Map<string, number>();
    let counted = 0;
    for (const from of [...recent.map((f) => f.address), ...(this.checkingAccount.get(user) ?? [])]) {
      const n = per.get(from) ?? 0;
      per.set(from, n + 1);
      if (n < ADDRESS_SHARE) counted++;
    }
    if (counted < ACCOUNT_FAILURES) return false;
    const known = this.knownAddresses.get(user)?.get(address);
    return known === undefined || known <= now - KNOWN_ADDRESS_MS;
  }

  /** Counts a failure against the address (always: hammering keeps it throttled) and, when `checked`, the account. */
  private recordFailure(user: string, address: string | undefined, now: number, checked: boolean): void {
    if (address === undefined) return;
    const byAddress = this.failures.get(address) ?? [];
    byAddress.push(now);
    this.failures.delete(address);
    this.failures.set(address, byAddress.slice(-THROTTLE_FAILURES * 2));
    bound(this.failures, this.maxTracked);
    if (!checked) return;
    const byAccount = this.accountFailures.get(user) ?? [];
    byAccount.push({ t: now, address });
    this.accountFailures.delete(user);
    // Enough to count ACCOUNT_FAILURES even when a few addresses send most of them.
    this.accountFailures.set(user, byAccount.slice(-ACCOUNT_FAILURES * ADDRESS_SHARE * 4));
    bound(this.accountFailures, this.maxTracked);
  }

  private recordSuccess(user: string, address: string | undefined, now: number): void {
    if (address === undefined) return;
    const known = this.knownAddresses.get(user) ?? new Map<string, number>();
    known.delete(address);
    known.set(address, now);
    bound(known, MAX_KNOWN_PER_ACCOUNT);
    this.knownAddresses.set(user, known);
  }

  /** The account, or undefined after the failure delay. */
  async login(a: CliLoginAttempt): Promise<Account | undefined> {
    const now = this.monotonic();
    const throttled = this.throttled(a.address, now);
    const accountThrottled = !throttled && this.accountThrottled(a.user, a.address, now);
    const account = this.accounts().get(a.user);
    // Verify for unknown users too, against a dummy hash, so timing does not tell which names exist.
    const verdict = throttled || accountThrottled ? false : await this.check(a, account?.hash ?? DUMMY_HASH);
    // The account as it is now: one removed, or given a new password, while the old one was being
    // checked does not get in; one whose privilege changed gets the new privilege.
    const current = this.accounts().get(a.user);
    const ok = verdict === true && account !== undefined && current?.hash === account.hash;
    const allowed = ok && (a.allowed?.(a.user) ?? true);
    if (ok && allowed) {
      this.recordSuccess(a.user, a.address, now);
      this.log.info('login', { user: current!.name, via: a.via, address: a.address });
      return current;
    }
    // Only a password that was checked counts against the account: a refused attempt guessed nothing.
    const checked = !throttled && !accountThrottled && verdict !== 'not-checked';
    this.recordFailure(a.user, a.address, now, checked);
    const reason =
      throttled ? 'throttled' : accountThrottled ? 'account-throttled' : verdict === 'not-checked' ? 'not-checked' : !ok ? 'bad-password' : 'not-allowed';
    this.log.info('login-failed', { user: a.user, via: a.via, address: a.address, reason });
    await new Promise((r) => setTimeout(r, this.delayMs));
    return undefined;
  }

  /** The password check, counted in `checking` while it runs; 'not-checked' when the checker refused it. */
  private async check(a: CliLoginAttempt, hash: string): Promise<boolean | 'not-checked'> {
    const done = a.address === undefined ? undefined : this.startChecking(a.user, a.address);
    try {
      return await this.checkPassword(a.password, hash);
    } catch {
      return 'not-checked';
    } finally {
      done?.();
    }
  }

  /** Counts an attempt from `address` for `user` as being checked; the function returned uncounts it. */
  private startChecking(user: string, address: string): () => void {
    this.checking.set(address, (this.checking.get(address) ?? 0) + 1);
    this.checkingAccount.set(user, [...(this.checkingAccount.get(user) ?? []), address]);
    return () => {
      const n = this.checking.get(address)! - 1;
      if (n) this.checking.set(address, n);
      else this.checking.delete(address);
      const from = this.checkingAccount.get(user)!;
      from.splice(from.indexOf(address), 1);
      if (!from.length) this.checkingAccount.delete(user);
    };
  }
}
