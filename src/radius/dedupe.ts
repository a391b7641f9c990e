/**
 * Duplicate detection (RFC 5080 §2.2.2): a retransmission (same source address and port, Identifier
 * and Request Authenticator) never gets a second evaluation — the single-use rule would reject it —
 * but the cached reply, byte for byte; while the first is still being processed it is dropped.
 */

/** How long a reply is kept for retransmissions (FreeRADIUS cleanup_delay is 5 s; NAS retries go longer). */
const KEEP_MS = 30_000;
const MAX_ENTRIES = 50_000;

type Entry = { readonly pending: true } | { readonly pending: false; readonly reply: Buffer | undefined; readonly expires: number };

export class DuplicateCache {
  private readonly entries = new Map<string, Entry>();

  static key(address: string, port: number, identifier: number, authenticator: Buffer): string {
    return `${address}|${port}|${identifier}|${authenticator.toString('hex')}`;
  }

  /**
   * Looks a request up: 'new' (now marked in progress), 'in-progress' (drop it) or the cached reply
   * (undefined reply = the first was dropped: drop this one too).
   */
  begin(key: string, now: number): { kind: 'new' } | { kind: 'in-progress' } | { kind: 'done'; reply: Buffer | undefined } {
    const e = this.entries.get(key);
    if (e?.pending) return { kind: 'in-progress' };
    if (e && e.expires > now) return { kind: 'done', reply: e.reply };
    this.sweep(now);
    this.entries.set(key, { pending: true });
    return { kind: 'new' };
  }

  /** Records the reply (or undefined for a dropped request) of a request begun earlier. */
  finish(key: string, reply: Buffer | undefined, now: number): void {
    this.entries.set(key, { pending: false, reply, expires: now + KEEP_MS });
  }

  private sweep(now: number): void {
    if (this.entries.size < MAX_ENTRIES) return;
    for (const [k, e] of this.entries) if (!e.pending && e.expires <= now) this.entries.delete(k);
    // Still full of live entries: forget the oldest rather than grow without bound.
    for (const k of this.entries.keys()) {
      if (this.entries.size < MAX_ENTRIES) break;
      this.entries.delete(k);
    }
  }
}
