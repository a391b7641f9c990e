/**
 * Audit events for the JSON lines on stderr, the permanent log and the syslog hosts, handed over after
 * the current turn of the event loop, all of the turn's at once: formatting, the writes and the UDP
 * sends then run after the RADIUS reply of that turn has left rather than before it. Each event keeps
 * the time it happened. `flush()` hands over what is pending now (before a read of the permanent log,
 * before the process writes something of its own to stderr, and before the sinks close).
 */
import type { Log, LogEvent } from '../util/log.ts';

/** Where the events of a turn go, oldest first: the JSON lines, PermanentLog.append, SyslogSender.send. */
export type EventSink = (events: readonly LogEvent[]) => void;

export class DeferredLog implements Log {
  private pending: LogEvent[] = [];

  constructor(
    private readonly now: () => number,
    private readonly sinks: readonly EventSink[],
  ) {}

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.push('info', event, fields);
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.push('error', event, fields);
  }

  /** Hands every pending event to every sink. A sink that throws does not keep them from the others. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    for (const sink of this.sinks) {
      try {
        sink(batch);
      } catch {
        // the sinks never throw by contract; if one did, the others still get the events
      }
    }
  }

  private push(level: string, event: string, fields: Record<string, unknown>): void {
    // One setImmediate per turn, however many events the turn logs (it runs after the I/O callbacks
    // of the turn, so after the reply a RADIUS request's step sent).
    if (this.pending.length === 0) setImmediate(() => this.flush());
    this.pending.push({ time: this.now(), level, event, fields });
  }
}
