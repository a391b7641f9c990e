/**
 * Logins to the CLI (console and SSH) against the `username` accounts: one check for both, with the
 * defences a router's login has. Unknown names are checked against a dummy hash, so timing does not
 * tell which names exist; every failure is logged and costs a delay before the answer; an address
 * with too many recent failures is refused without checking (slows password guessing).
 */
import { hashPassword, verifyPassword } from '../util/crypt.ts';
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

/** A hash of nothing in particular, verified against for unknown users. */
const DUMMY_HASH = hashPassword('awplus-no-such-user');

export class CliLogin {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly accounts: () => ReadonlyMap<string, Account>,
    private readonly log: Log,
    /** A monotonic clock (ms) for the throttle windows. */
    private readonly monotonic: () => number,
    private readonly delayMs = LOGIN_FAILURE_DELAY_MS,
  ) {}

  private throttled(address: string | undefined, now: number): boolean {
    if (address === undefined) return false;
    const recent = (this.failures.get(address) ?? []).filter((t) => t > now - THROTTLE_WINDOW_MS);
    this.failures.set(address, recent);
    return recent.length >= THROTTLE_FAILURES;
  }

  /** The account, or undefined after the failure delay. */
  async login(a: CliLoginAttempt): Promise<Account | undefined> {
    const now = this.monotonic();
    const throttled = this.throttled(a.address, now);
    const account = this.accounts().get(a.user);
    // Verify for unknown users too, against a dummy hash, so timing does not tell which names exist.
    const ok = !throttled && verifyPassword(a.password, account?.hash ?? DUMMY_HASH) && account !== undefined;
    const allowed = ok && (a.allowed?.(a.user) ?? true);
    if (ok && allowed) {
      this.log.info('login', { user: account!.name, via: a.via, address: a.address });
      return account;
    }
    if (a.address !== undefined) this.failures.get(a.address)!.push(now);
    const reason = throttled ? 'throttled' : !ok ? 'bad-password' : 'not-allowed';
    this.log.info('login-failed', { user: a.user, via: a.via, address: a.address, reason });
    await new Promise((r) => setTimeout(r, this.delayMs));
    return undefined;
  }
}
