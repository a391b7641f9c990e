/**
 * The `ntp server` poller: asks the configured servers at a fixed interval, steers the appliance clock
 * (the one every OTP check reads) by the first server in configured order that gave a usable answer,
 * and keeps what `show ntp status` and `show ntp associations` print. SNTP, not NTP: one sample per
 * poll, no clock filter or selection algorithm, the clock stepped rather than slewed (RFC 4330 §1).
 */
import type { Log } from '../util/log.ts';
import { SntpError, sntpQuery, type SntpFailure, type SntpSample } from './sntp.ts';

/** The clock the poller measures and steers: ApplianceClock fits. */
export interface SteerableClock {
  now(): number;
  /** Sets the clock to `ms` (`clock set`); it keeps running from there. */
  set(ms: number): void;
  /** How far the clock is from the host clock; changes when anyone sets the clock. */
  readonly offset: number;
}

/** One `ntp server ADDR [port N]` line. */
export interface NtpServer {
  readonly address: string;
  readonly port?: number;
}

/** What `show ntp status` needs. Times are appliance Unix ms. */
export interface NtpStatus {
  readonly synchronised: boolean;
  /** The server the clock follows (or followed last, when no longer synchronised). */
  readonly server?: string;
  readonly port?: number;
  /** Our stratum: one more than the server we follow (RFC 5905's stratum hierarchy). */
  readonly stratum?: number;
  /** The server's own reference (RFC 5905 §7.3 reference ID). */
  readonly referenceId?: string;
  /** Offset measured at the last sync, before the clock was stepped by it. */
  readonly offsetMs?: number;
  readonly delayMs?: number;
  readonly lastSync?: number;
  /** Consecutive polls in which no server gave a usable answer. */
  readonly failedPolls: number;
}

/** One line of `show ntp associations`. */
export interface NtpAssociation {
  readonly address: string;
  readonly port: number;
  /** The server the clock follows now. */
  readonly selected: boolean;
  /** The last 8 polls, newest in bit 0, 1 = a usable answer (RFC 5905 §13); print with `reachText`. */
  readonly reach: number;
  readonly polls: number;
  /** Appliance time of the last usable answer. */
  readonly lastAnswer?: number;
  readonly stratum?: number;
  readonly referenceId?: string;
  readonly offsetMs?: number;
  readonly delayMs?: number;
  /** The last poll's failure (cleared by a usable answer). */
  readonly lastError?: string;
  readonly lastFailure?: SntpFailure;
  /** The code of the last kiss-o'-death this server sent (kept: DENY and RSTR stop polling it). */
  readonly kissCode?: string;
  /** `denied` after DENY or RSTR: never asked again until it is configured anew (RFC 4330 §8). */
  readonly state: 'new' | 'ok' | 'failing' | 'denied';
  /** Seconds this server is still left alone after a RATE kiss (RFC 4330 §8, RFC 5905 §7.4); 0 when due. */
  readonly backoffS: number;
}

/** The reach register as ntpd and AW+ print it: octal, `377` when the last 8 polls all answered. */
export const reachText = (reach: number) => (reach & 0xff).toString(8);

export interface NtpClientOptions {
  readonly clock: SteerableClock;
  readonly log?: Log;
  /** Interval between polls once synchronised [64 s: RFC 5905 §7.2 MINPOLL 6]. */
  readonly pollIntervalMs?: number;
  /**
   * Interval until the first sync or after losing it [16 s]. RFC 4330 §10: a client MUST NOT poll one
   * server more often than every 15 s; tests pass less.
   */
  readonly unsyncedIntervalMs?: number;
  /** How long one query waits for its answer [2 s]. */
  readonly timeoutMs?: number;
  /**
   * While synchronised, an answer further off than this is implausible and ignored [1000 s: RFC 5905
   * §11.3 PANICT, the offset at which ntpd gives up]. Before the first sync or after losing it, any
   * offset is taken: a router's battery-less clock can be years off at boot, and stepping it is the
   * point. A server that stays far off wins after `lostAfter` polls, once sync is lost.
   */
  readonly maxOffsetMs?: number;
  /** Answers that put the server's time before this Unix ms are ignored [2024-01-01]. */
  readonly notBefore?: number;
  /** Synchronisation is lost after this many polls in a row without a usable answer [8: the reach register's width]. */
  readonly lostAfter?: number;
  /** Longest wait a RATE kiss can push a server to [1024 s: 2^10, ntpd's default maxpoll]. */
  readonly maxBackoffMs?: number;
}

interface ServerState {
  address: string;
  port: number;
  reach: number;
  polls: number;
  lastAnswer?: number;
  sample?: SntpSample;
  lastError?: string;
  lastFailure?: SntpFailure;
  kissCode?: string;
  state: 'new' | 'ok' | 'failing' | 'denied';
  backoffExp: number;
  /** performance.now() before which this server is not asked (RATE back-off). */
  quietUntil: number;
}

const key = (address: string, port: number) => `${address.toLowerCase()}|${port}`;

/** The SNTP poller. `start()` begins polling, `apply()` follows configuration, `stop()` ends it cleanly. */
export class NtpClient {
  private servers: ServerState[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly abort = new Set<AbortController>();
  private synced = false;
  private selected: ServerState | undefined;
  private lastSync: { server: string; port: number; sample: SntpSample; at: number } | undefined;
  private failedPolls = 0;
  private pollAgain = false;

  private readonly pollIntervalMs: number;
  private readonly unsyncedIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxOffsetMs: number;
  private readonly notBefore: number;
  private readonly lostAfter: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly options: NtpClientOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 64_000;
    this.unsyncedIntervalMs = options.unsyncedIntervalMs ?? 16_000;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxOffsetMs = options.maxOffsetMs ?? 1_000_000;
    this.notBefore = options.notBefore ?? Date.UTC(2024, 0, 1);
    this.lostAfter = Math.max(1, options.lostAfter ?? 8);
    this.maxBackoffMs = options.maxBackoffMs ?? 1_024_000;
  }

  /**
   * Follows the configured server list (`ntp server` lines in order). Servers still configured keep
   * their history (reach, a DENY); new ones start fresh; removing the server the clock follows leaves
   * the clock synchronised until the next poll decides. With no server left the clock is free again.
   */
  apply(servers: readonly NtpServer[]): void {
    const old = new Map(this.servers.map((s) => [key(s.address, s.port), s]));
    const next: ServerState[] = [];
    const seen = new Set<string>();
    for (const s of servers) {
      const port = s.port ?? 123;
      const k = key(s.address, port);
      if (seen.has(k)) continue;
      seen.add(k);
      next.push(old.get(k) ?? { address: s.address, port, reach: 0, polls: 0, state: 'new', backoffExp: 0, quietUntil: 0 });
    }
    const added = next.some((s) => !old.has(key(s.address, s.port)));
    this.servers = next;
    if (this.selected && !next.includes(this.selected)) this.selected = undefined;
    if (next.length === 0) {
      this.lose('no servers configured');
      this.clearTimer();
      return;
    }
    // A newly configured server is asked right away rather than at the end of a long interval (after
    // the poll under way, if there is one).
    if (this.running && (added || (!this.timer && !this.inFlight))) {
      if (this.inFlight) this.pollAgain = true;
      else this.schedule(0);
    }
  }

  /** Starts polling (the first poll at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.servers.length > 0) this.schedule(0);
  }

  /** Stops polling: clears the timer, aborts queries in flight and waits until their sockets are closed. */
  async stop(): Promise<void> {
    this.running = false;
    this.clearTimer();
    for (const a of this.abort) a.abort();
    await this.inFlight;
  }

  /** Polls now and resolves when the poll is over (a poll already running is joined, not doubled). */
  pollNow(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.clearTimer();
    const round = this.poll().finally(() => {
      this.inFlight = undefined;
      const again = this.pollAgain;
      this.pollAgain = false;
      if (this.running && this.servers.length > 0) this.schedule(again ? 0 : this.synced ? this.pollIntervalMs : this.unsyncedIntervalMs);
    });
    this.inFlight = round;
    return round;
  }

  status(): NtpStatus {
    const last = this.lastSync;
    return {
      synchronised: this.synced,
      failedPolls: this.failedPolls,
      ...(last && {
        server: last.server,
        port: last.port,
        stratum: last.sample.stratum + 1,
        referenceId: last.sample.referenceId,
        offsetMs: last.sample.offsetMs,
        delayMs: last.sample.delayMs,
        lastSync: last.at,
      }),
    };
  }

  associations(): NtpAssociation[] {
    return this.servers.map((s) => ({
      address: s.address,
      port: s.port,
      selected: this.synced && s === this.selected,
      reach: s.reach,
      polls: s.polls,
      state: s.state,
      backoffS: Math.max(0, Math.ceil((s.quietUntil - performance.now()) / 1000)),
      ...(s.lastAnswer !== undefined && { lastAnswer: s.lastAnswer }),
      ...(s.sample && { stratum: s.sample.stratum, referenceId: s.sample.referenceId, offsetMs: s.sample.offsetMs, delayMs: s.sample.delayMs }),
      ...(s.lastError !== undefined && { lastError: s.lastError }),
      ...(s.lastFailure !== undefined && { lastFailure: s.lastFailure }),
      ...(s.kissCode !== undefined && { kissCode: s.kissCode }),
    }));
  }

  private schedule(ms: number): void {
    this.clearTimer();
    // unref: a pending poll alone does not keep the process alive (the daemon has its listeners for that).
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pollNow();
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One poll: every eligible server is asked at once; the first in configured order with a usable answer steers. */
  private async poll(): Promise<void> {
    const clock = this.options.clock;
    const mono = performance.now();
    const due = this.servers.filter((s) => s.state !== 'denied' && s.quietUntil <= mono);
    if (due.length === 0) {
      // Every server refused us for good: that is a failed poll. Servers only resting after a RATE kiss are not.
      if (this.servers.every((s) => s.state === 'denied')) this.fail('every server sent DENY or RSTR');
      return;
    }
    const offsetBefore = clock.offset;
    const limits = this.synced ? { maxOffsetMs: this.maxOffsetMs } : {};
    const results = await Promise.all(
      due.map(async (s) => {
        const ctl = new AbortController();
        this.abort.add(ctl);
        try {
          const sample = await sntpQuery({ address: s.address, port: s.port, now: () => clock.now(), timeoutMs: this.timeoutMs, notBefore: this.notBefore, signal: ctl.signal, ...limits });
          return { s, sample };
        } catch (e) {
          return { s, error: e instanceof SntpError ? e : new SntpError('network', String(e)) };
        } finally {
          this.abort.delete(ctl);
        }
      }),
    );
    if (results.some((r) => r.error?.reason === 'aborted')) return;
    // Someone set the clock (`clock set`) while the queries were out: T1 and T4 no longer share a
    // timescale, so the offsets mean nothing. Skip this poll; the reach registers are left alone.
    if (clock.offset !== offsetBefore) return;

    const at = clock.now();
    for (const r of results) this.record(r.s, r.sample, r.error, at);
    const best = results.find((r) => r.sample && this.servers.includes(r.s));
    if (best?.sample) this.steer(best.s, best.sample);
    else this.fail(results.map((r) => `${r.s.address}: ${r.error?.message ?? 'removed'}`).join('; '));
  }

  private record(s: ServerState, sample: SntpSample | undefined, error: SntpError | undefined, at: number): void {
    s.polls++;
    // RFC 5905 §13: the reach register shifts left each poll; bit 0 set when a valid answer came.
    s.reach = ((s.reach << 1) | (sample ? 1 : 0)) & 0xff;
    if (sample) {
      s.sample = sample;
      s.lastAnswer = at;
      s.state = 'ok';
      s.lastError = undefined;
      s.lastFailure = undefined;
      s.backoffExp = 0;
      return;
    }
    s.state = 'failing';
    s.lastError = error?.message ?? 'no answer';
    s.lastFailure = error?.reason;
    if (error?.reason !== 'kiss-o-death') return;
    s.kissCode = error.kissCode;
    if (error.kissCode === 'DENY' || error.kissCode === 'RSTR') {
      // RFC 4330 §8: on DENY or RSTR the client MUST stop sending to that server.
      s.state = 'denied';
      this.options.log?.error('ntp-server-denied', { server: s.address, port: s.port, kiss: error.kissCode });
    } else if (error.kissCode === 'RATE') {
      // RFC 4330 §8 / RFC 5905 §7.4: RATE means poll less often. Each RATE in a row doubles how long this
      // server is left alone (64 s, 128 s, … up to maxBackoffMs); a usable answer resets it.
      s.backoffExp = Math.min(s.backoffExp + 1, 20);
      s.quietUntil = performance.now() + Math.min(this.pollIntervalMs * 2 ** (s.backoffExp - 1), this.maxBackoffMs);
    }
  }

  private steer(s: ServerState, sample: SntpSample): void {
    const clock = this.options.clock;
    // Step the clock by the measured offset: SNTP has no frequency discipline (RFC 4330 §1), and a
    // step keeps OTP checks right at once. Stepping relative to now() (not to the host clock) keeps
    // any `clock set` offset arithmetic inside ApplianceClock.
    clock.set(clock.now() + sample.offsetMs);
    // The answer times kept so far were read on the clock before the step: move them with it, or
    // `show ntp associations` would date this very answer an offset ago.
    for (const other of this.servers) if (other.lastAnswer !== undefined) other.lastAnswer += sample.offsetMs;
    const wasSynced = this.synced;
    const changed = this.selected !== s;
    this.synced = true;
    this.selected = s;
    this.failedPolls = 0;
    this.lastSync = { server: s.address, port: s.port, sample, at: clock.now() };
    if (!wasSynced || changed) {
      this.options.log?.info('ntp-synchronised', { server: s.address, port: s.port, stratum: sample.stratum + 1, offset: round3(sample.offsetMs / 1000) });
    } else if (Math.abs(sample.offsetMs) > 128) {
      // RFC 5905 §11.3 STEPT (128 ms): a correction this large while synchronised is worth an audit line.
      this.options.log?.info('ntp-clock-stepped', { server: s.address, offset: round3(sample.offsetMs / 1000) });
    }
  }

  private fail(reason: string): void {
    this.failedPolls++;
    if (this.synced && this.failedPolls >= this.lostAfter) this.lose(reason);
  }

  private lose(reason: string): void {
    if (!this.synced) return;
    this.synced = false;
    this.selected = undefined;
    this.options.log?.error('ntp-unsynchronised', { reason });
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
