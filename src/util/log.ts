/**
 * A tiny structured logger: one JSON line per event (SPEC §11). Callers pass fields, never secrets.
 */

/** Where log events go. */
export interface Log {
  info(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/** The last time stamp made and its text: under load many events share a millisecond. */
let lastIso = { ms: NaN, text: '' };

/** `new Date(ms).toISOString()`, made once per millisecond however many events log in it. */
export function isoTime(ms: number): string {
  if (ms !== lastIso.ms) lastIso = { ms, text: new Date(ms).toISOString() };
  return lastIso.text;
}

/**
 * An event as one JSON line (SPEC §11): `{"time":…,"level":…,"event":…,<its fields>}`. Never throws:
 * fields that JSON cannot hold (a BigInt, a cycle) are replaced by `"unserializable":true`.
 */
export function jsonLine(e: LogEvent): string {
  const time = Number.isFinite(e.time) ? isoTime(e.time) : null;
  try {
    return JSON.stringify({ time, level: e.level, event: e.event, ...e.fields }) + '\n';
  } catch {
    return JSON.stringify({ time, level: e.level, event: e.event, unserializable: true }) + '\n';
  }
}

/** Keeps events in memory (tests). */
export function memoryLog(): Log & { readonly events: { level: string; event: string; fields: Record<string, unknown> }[] } {
  const events: { level: string; event: string; fields: Record<string, unknown> }[] = [];
  return {
    events,
    info: (event, fields = {}) => void events.push({ level: 'info', event, fields }),
    error: (event, fields = {}) => void events.push({ level: 'error', event, fields }),
  };
}

/** One remembered event. */
export interface LogEvent {
  readonly time: number;
  readonly level: string;
  readonly event: string;
  readonly fields: Record<string, unknown>;
}

/** How AuditTrail keeps events that come in bulk apart from the rest. */
export interface BulkEvents {
  /** Whether an event is one that comes in bulk (failed logins and dropped packets a stranger can cause, accounting records, …). */
  readonly is: (event: string) => boolean;
  /** How many of them are kept. */
  readonly size: number;
}

/**
 * Passes events on to `sink` and keeps the newest `size` of them for `show log` (SPEC §11). Events that
 * anyone on the network can cause at will (`bulk`) are kept in a ring of their own, so a flood of them
 * can never push a login, a lockout or a configuration change out of `show log`.
 */
export class AuditTrail implements Log {
  private readonly ring: { seq: number; e: LogEvent }[] = [];
  private readonly bulkRing: { seq: number; e: LogEvent }[] = [];
  private seq = 0;

  constructor(
    private readonly sink: Log,
    private readonly now: () => number,
    private readonly size = 1000,
    private readonly bulk?: BulkEvents,
  ) {}

  private keep(level: string, event: string, fields: Record<string, unknown>): void {
    const isBulk = this.bulk?.is(event) ?? false;
    const ring = isBulk ? this.bulkRing : this.ring;
    ring.push({ seq: this.seq++, e: { time: this.now(), level, event, fields } });
    if (ring.length > (isBulk ? this.bulk!.size : this.size)) ring.shift();
  }

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.keep('info', event, fields);
    this.sink.info(event, fields);
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.keep('error', event, fields);
    this.sink.error(event, fields);
  }

  /** The newest `count` events (all when omitted) of both rings, oldest first. */
  recent(count?: number): readonly LogEvent[] {
    const all: LogEvent[] = [];
    let i = 0;
    let j = 0;
    while (i < this.ring.length || j < this.bulkRing.length) {
      const a = this.ring[i];
      const b = this.bulkRing[j];
      if (b === undefined || (a !== undefined && a.seq < b.seq)) all.push(this.ring[i++]!.e);
      else all.push(this.bulkRing[j++]!.e);
    }
    return count === undefined ? all : all.slice(-count);
  }
}

/**
 * One Log that hands every event to each of `sinks` in turn: the JSON lines on stderr, the permanent
 * log in flash and the syslog hosts (SPEC §11, §17). A sink that throws is skipped for that event, so
 * it can neither stop the others nor reach the caller (the RADIUS path logs and must go on).
 */
export function teeLog(...sinks: Log[]): Log {
  const each = (level: 'info' | 'error', event: string, fields?: Record<string, unknown>) => {
    for (const s of sinks) {
      try {
        s[level](event, fields);
      } catch {
        // a broken sink loses this event; the others still get it
      }
    }
  };
  return { info: (e, f) => each('info', e, f), error: (e, f) => each('error', e, f) };
}
