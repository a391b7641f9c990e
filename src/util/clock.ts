/**
 * The appliance clock. Every time-dependent decision (OTP steps, lockouts, `show clock`) reads it, never
 * `Date.now()` directly (SPEC §5), so `clock set` and tests control time.
 */

/** Milliseconds since the Unix epoch, as the appliance sees them. */
export interface Clock {
  now(): number;
}

/** The system clock shifted by an offset that `clock set` chooses; keeps running from there. */
export class ApplianceClock implements Clock {
  constructor(
    private offsetMs = 0,
    private readonly source: () => number = Date.now,
  ) {}

  now(): number {
    return this.source() + this.offsetMs;
  }

  /** Sets the appliance time to `ms`; the clock keeps running from there (SPEC §4 `clock set`). */
  set(ms: number): void {
    this.offsetMs = ms - this.source();
  }

  /** How far the appliance clock is from the host clock (persisted like a router's RTC). */
  get offset(): number {
    return this.offsetMs;
  }
}

/** A clock that only moves when told to (tests). */
export class ManualClock implements Clock {
  constructor(private ms: number) {}

  now(): number {
    return this.ms;
  }

  set(ms: number): void {
    this.ms = ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
