/**
 * The self-registration page's backend (SPEC §8; AW+ 2FA manual, TOTP方式における自己登録用Webページ
 * step 5): the user's password is checked by the first-factor source the page is configured with
 * (`aaa authentication 2fa-registration`, through the same FirstFactorSource code the RADIUS path
 * uses), and only then is a TOTP user created through the 2FA facade, with the configured issuer and
 * label. Users who already have a second factor are refused, and get no new secret.
 *
 * Lockout (SPEC §8: failures count in the same per-user lockout as RADIUS): a wrong password for a name
 * with a 2FA record counts in that record, durably, exactly like a refused code; a name without a record
 * has no record to count in, so it is counted in memory here (bounded, forgotten at restart).
 *
 * One answer for every failed login, in the same time (OWASP Authentication Cheat Sheet, "Authentication
 * Responses"): unknown name, wrong password and lockout all end as a failure no sooner than
 * `failureFloorMs` after the request began, whatever the first factor cost (a local user's crypt(3) hash,
 * an unknown name's nothing), so timing does not tell which names exist.
 */
import { otpauthUrl } from '../twofa/enrolment.ts';
import { TwoFaError, type TwoFactor } from '../twofa/facade.ts';
import type { TwoFaSettings } from '../twofa/types.ts';
import { countFailure } from '../twofa/verifier.ts';
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import { isLoginName, type FirstFactorSource, type RegistrationBackend, type RegistrationFailure, type RegistrationResult } from './types.ts';

/** A failed login is answered no sooner than this after it arrived (as the CLI login's failure delay). */
export const REGISTRATION_FAILURE_FLOOR_MS = 1000;
/** Names without a record whose failures are remembered at most (oldest forgotten first). */
export const TRACKED_NAMES = 10_000;

export interface SelfRegistrationOptions {
  readonly twofa: Pick<TwoFactor, 'createUser' | 'lockedOut' | 'passwordFailed'>;
  /** Where the password is checked; asked at every login, so configuration changes apply to the next one. */
  readonly firstFactor: () => FirstFactorSource;
  /** The otpauth label and issuer, and the lockout rule; read at every login. */
  readonly settings: () => Pick<TwoFaSettings, 'label' | 'issuer' | 'lockoutFailures' | 'lockoutPeriod'>;
  /** The appliance clock (lockout times, as the records keep them). */
  readonly clock: Clock;
  /** A monotonic clock in ms (the failure floor must not move with `clock set`). */
  readonly monotonic: () => number;
  readonly log: Log;
  readonly failureFloorMs?: number;
  readonly trackedNames?: number;
}


/** The lockout of names without a 2FA record, by the records' rule (twofa/verifier.ts `countFailure`). */
class UnregisteredLockout {
  /** Insertion order = least recently failed first, so the oldest is the one forgotten. */
  private readonly names = new Map<string, { failures: number[]; lockedUntil: number | undefined }>();

  constructor(private readonly max: number) {}

  locked(name: string, now: number): boolean {
    const e = this.names.get(name);
    return e?.lockedUntil !== undefined && e.lockedUntil > now;
  }

  /** Counts a failure; true when it starts a lockout. */
  failed(name: string, now: number, s: { lockoutFailures: number; lockoutPeriod: number }): boolean {
    const counted = countFailure(this.names.get(name)?.failures ?? [], now, s);
    this.names.delete(name);
    if (this.names.size >= this.max) this.names.delete(this.names.keys().next().value!);
    this.names.set(name, counted);
    return counted.lockedUntil !== undefined;
  }

  /** Forgets the name's failures and lockout; true when there were any. */
  clear(name: string): boolean {
    return this.names.delete(name);
  }

  lockedCount(now: number): number {
    let n = 0;
    for (const e of this.names.values()) if (e.lockedUntil !== undefined && e.lockedUntil > now) n++;
    return n;
  }
}

export class SelfRegistration implements RegistrationBackend {
  private readonly unregistered: UnregisteredLockout;
  private readonly floorMs: number;

  constructor(private readonly o: SelfRegistrationOptions) {
    this.unregistered = new UnregisteredLockout(o.trackedNames ?? TRACKED_NAMES);
    this.floorMs = o.failureFloorMs ?? REGISTRATION_FAILURE_FLOOR_MS;
  }

  async register(user: string, password: string, client: string): Promise<RegistrationResult> {
    const started = this.o.monotonic();
    const result = await this.decide(user, password, client);
    if (!result.ok && (result.reason === 'bad-login' || result.reason === 'locked-out')) {
      const wait = started + this.floorMs - this.o.monotonic();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return result;
  }

  /**
   * `clear 2fa lockout NAME` for a name without a record: forgets its failures on this page (logged).
   * True when there was something to forget.
   */
  clearLockout(name: string, by: string): boolean {
    const wasLocked = this.unregistered.locked(name, this.o.clock.now());
    if (!this.unregistered.clear(name)) return false;
    this.o.log.info('registration-lockout-cleared', { user: name, by, wasLocked });
    return true;
  }

  /** Names without a record locked out of the page now (`show 2fa self-registration`). */
  lockedOutNames(): number {
    return this.unregistered.lockedCount(this.o.clock.now());
  }

  private async decide(user: string, password: string, client: string): Promise<RegistrationResult> {
    if (!isLoginName(user)) return failure('bad-login');
    // A locked-out user's password is not even asked for: the lockout exists to stop guessing.
    if (this.unregistered.locked(user, this.o.clock.now()) || (await this.o.twofa.lockedOut(user))) return failure('locked-out');

    const { answer } = await this.o.firstFactor().check(user, Buffer.from(password, 'utf8'));
    // No answer is no verdict: nothing counted (as a RADIUS login whose first factor timed out).
    if (answer === 'timeout') return failure('first-factor-timeout');
    if (answer === 'reject') {
      const counted = await this.o.twofa.passwordFailed(user);
      if (!counted && this.unregistered.failed(user, this.o.clock.now(), this.o.settings())) {
        this.o.log.info('registration-locked-out', { user, client });
      }
      return failure('bad-login');
    }

    this.unregistered.clear(user);
    // Only now, after the password was accepted, may the answer say that the user exists. The facade
    // applies `2fa create user`'s rule: an address-only (e-mail OTP) record may be given a TOTP secret;
    // a TOTP, HOTP or skip-2fa user (set up by an administrator or an earlier registration) is refused
    // as 'exists', also when two registrations of one user race.
    let created;
    try {
      created = await this.o.twofa.createUser(user, {});
    } catch (e) {
      if (e instanceof TwoFaError && e.code === 'exists') return failure('already-registered');
      throw e;
    }
    return { ok: true, secret: created.secret, otpauthUrl: otpauthUrl(created, this.o.settings()), scratchCodes: [...created.scratch] };
  }
}

const failure = (reason: RegistrationFailure): RegistrationResult => ({ ok: false, reason });
