/**
 * Duplicate detection (RFC 5080 §2.2.2): a retransmission (same source address and port, Identifier
 * and Request Authenticator) never gets a second evaluation — the single-use rule would reject it —
 * but the cached reply, byte for byte; while the first is still being processed it is dropped.
 *
 * The cache is bounded in bytes, not entries: a reply can be anything from ~40 octets to 4096 (a NAS,
 * or a proxy in front of it, decides how much Proxy-State we echo, RFC 2865 §5.33), so a count bound
 * would let 4 KB replies take 200 MB and more. Entries leave when they expire or, under pressure, oldest
 * first (RFC 5080 §2.2.2 lets a server forget a request; a retransmission of a forgotten one is decided
 * again, and single use refuses a code that was already accepted — safe, if unfriendly).
 */

/** How long a reply is kept for retransmissions (FreeRADIUS cleanup_delay is 5 s; NAS retries go longer). */
const KEEP_MS = 30_000;
/**
 * Bytes the cache may hold: 30 s of 4 000 logins/s with ordinary replies (~60 octets + key + overhead),
 * or ~7 500 of the largest replies. A few tens of megabytes, whatever the NAS sends.
 */
export const DEFAULT_BUDGET = 32 * 1024 * 1024;
/** What one entry costs beside its key and reply: the Map slot, the entry object, the reply string's header. */
const ENTRY_OVERHEAD = 160;

/**
 * A finished entry keeps its reply as a one-byte (latin1) string, not a Buffer: a string is an ordinary
 * heap object, while every Buffer kept for 30 s would be a memory block of its own outside the heap,
 * allocated, tracked and freed per login. A retransmission, which is rare, turns it back into bytes.
 */
type Entry = { readonly pending: true; readonly bytes: number } | { readonly pending: false; readonly reply: string | undefined; readonly expires: number; readonly bytes: number };

export class DuplicateCache {
  private readonly entries = new Map<string, Entry>();
  private used = 0;

  constructor(private readonly budget = DEFAULT_BUDGET) {}

  static key(address: string, port: number, identifier: number, authenticator: Buffer): string {
    return `${address}|${port}|${identifier}|${authenticator.toString('hex')}`;
  }

  /** Bytes held now (keys, replies and per-entry overhead), never above the budget for long. */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Looks a request up: 'new' (now marked in progress), 'in-progress' (drop it) or the cached reply
   * (undefined reply = the first was dropped: drop this one too).
   */
  begin(key: string, now: number): { kind: 'new' } | { kind: 'in-progress' } | { kind: 'done'; reply: Buffer | undefined } {
    const e = this.entries.get(key);
    if (e?.pending) return { kind: 'in-progress' };
    if (e && e.expires > now) return { kind: 'done', reply: e.reply === undefined ? undefined : Buffer.from(e.reply, 'latin1') };
    if (e) this.remove(key, e);
    this.expire(now);
    this.put(key, { pending: true, bytes: key.length + ENTRY_OVERHEAD });
    return { kind: 'new' };
  }

  /** Records the reply (or undefined for a dropped request) of a request begun earlier. */
  finish(key: string, reply: Buffer | undefined, now: number): void {
    const e = this.entries.get(key);
    if (e) this.remove(key, e);
    // A copy of its own, too: a small Buffer may be a slice of an 8 KB pool slab that it would keep alive.
    const kept = reply?.toString('latin1');
    this.put(key, { pending: false, reply: kept, expires: now + KEEP_MS, bytes: key.length + (kept?.length ?? 0) + ENTRY_OVERHEAD });
  }

  private put(key: string, e: Entry): void {
    this.entries.set(key, e);
    this.used += e.bytes;
    if (this.used > this.budget) this.evict();
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key);
    this.used -= e.bytes;
  }

  /** Drops expired replies from the oldest end (entries are in arrival order, so expiry is too, nearly). */
  private expire(now: number): void {
    for (const [k, e] of this.entries) {
      if (e.pending) continue;
      if (e.expires > now) break;
      this.remove(k, e);
    }
  }

  /** Over budget: forget the oldest finished entries (requests in progress stay: they are few and small). */
  private evict(): void {
    for (const [k, e] of this.entries) {
      if (this.used <= this.budget) break;
      if (!e.pending) this.remove(k, e);
    }
  }
}
