/**
 * Per-client-address limit on login attempts (OWASP Authentication Cheat Sheet, "Protect against
 * automated attacks"): at most N POSTs in any sliding window, then 429 with Retry-After (RFC 6585 §4).
 * The per-user lockout is the backend's; this one stops a single address from trying many users.
 */
import type { Clock } from '../util/clock.ts';

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number; readonly first: boolean };

/**
 * The key an address is limited under. IPv4 per address; IPv6 per /64, because one host is usually
 * given a whole /64 and could otherwise change address for every attempt. IPv4-mapped IPv6 addresses
 * (`::ffff:192.0.2.1`, what a dual-stack socket reports) count as their IPv4 address.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** The normalised address to show and log (IPv4-mapped addresses as plain IPv4). */
export function clientAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

export class RateLimiter {
  /** Times of the recent attempts per key, oldest first; Map order = least recently seen first. */
  private readonly recent = new Map<string, { times: number[]; refusedLogged: boolean }>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  /** Counts one attempt by `key` if it is allowed. `first` marks the first refusal of a burst (to log once). */
  take(key: string): RateDecision {
    const now = this.clock.now();
    const entry = this.recent.get(key) ?? { times: [], refusedLogged: false };
    entry.times = entry.times.filter((t) => t > now - this.windowMs && t <= now);
    this.recent.delete(key);
    this.recent.set(key, entry);
    if (entry.times.length >= this.limit) {
      const first = !entry.refusedLogged;
      entry.refusedLogged = true;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((entry.times[0]! + this.windowMs - now) / 1000)), first };
    }
    entry.times.push(now);
    entry.refusedLogged = false;
    this.evict(now);
    return { ok: true };
  }

  /** Bounded memory: forget idle keys, and the least recently seen beyond `maxKeys`. */
  private evict(now: number): void {
    if (this.recent.size <= this.maxKeys) return;
    for (const [k, e] of this.recent) {
      if (e.times.every((t) => t <= now - this.windowMs)) this.recent.delete(k);
    }
    for (const k of this.recent.keys()) {
      if (this.recent.size <= this.maxKeys) break;
      this.recent.delete(k);
    }
  }
}
