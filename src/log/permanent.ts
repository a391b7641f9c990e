/**
 * `show log permanent`: the audit log kept in flash across restarts, as JSON lines
 * `{"time":"…Z","level":"info","event":"radius-auth","fields":{…}}` in dot-files that `dir` does not
 * list (`.log-permanent`, then `.log-permanent.1`, … after rotation).
 *
 * The caller is the RADIUS path among others, so logging never waits on the disk and never throws:
 * - `append` only formats the line and queues it in memory;
 * - a timer flushes the queue at least every `flushIntervalMs` [1 s] (sooner when half the buffer is
 *   used) with asynchronous writes on libuv's thread pool, so the event loop is not blocked either;
 * - each flush ends with fdatasync [`sync`, on]: at most one sync a second, off the caller's path, and
 *   it bounds what a power cut loses to about the last second (a process crash loses the unflushed
 *   queue in any case). `close` flushes and fsyncs;
 * - the queue is bounded [`maxBufferBytes`, 256 KiB]. When it is full (the disk is slower than the
 *   events, or the flash is full or read-only and lines pile up) new lines are dropped and counted, and
 *   one marker line `log-dropped` with the count takes their place, so the gap shows in the log;
 * - a failed write is cut back to the last whole line (ftruncate), kept in the queue and retried, so
 *   a full flash neither tears a line nor loses the lines already queued.
 * Size is bounded: `files` [2] files of at most `maxFileBytes` [1 MiB] each; when the current file is
 * full it becomes `.1`, `.1` becomes `.2`, …, and the oldest is replaced.
 */
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isoTime, type Log, type LogEvent } from '../util/log.ts';
import { redactFields } from './redact.ts';

export interface PermanentLogOptions {
  /** The flash directory. */
  readonly dir: string;
  /** The appliance clock (event times). */
  readonly now: () => number;
  /** ['.log-permanent'] */
  readonly name?: string;
  /** [1 MiB] */
  readonly maxFileBytes?: number;
  /** Files kept, the current one included [2]. */
  readonly files?: number;
  /** [1000 ms] */
  readonly flushIntervalMs?: number;
  /** [256 KiB] */
  readonly maxBufferBytes?: number;
  /** fdatasync after each flush [true]. */
  readonly sync?: boolean;
}

export interface PermanentLogStats {
  /** Lines written to flash by this instance. */
  readonly written: number;
  /** Lines dropped (buffer full, flash full or failing, or still unwritten at close). */
  readonly dropped: number;
  /** Failed flushes. */
  readonly writeErrors: number;
  /** The error code of the last failed flush (`ENOSPC`, `EROFS`, …), cleared by a good one. */
  readonly failing?: string;
  readonly bufferedLines: number;
  readonly bufferedBytes: number;
}

/** A gap: lines dropped in a row, written as one `log-dropped` line. */
interface Gap {
  readonly time: number;
  count: number;
  readonly reason: string;
}

type Pending = string | Gap;

/** The event name of a gap marker. */
export const DROPPED_EVENT = 'log-dropped';

/** A line longer than this keeps its event but not its fields. */
const MAX_LINE_BYTES = 8192;

export class PermanentLog implements Log {
  private pending: Pending[] = [];
  private pendingBytes = 0;
  /** The batch a flush is writing right now: still counted against the buffer bound until it is on disk. */
  private flightBytes = 0;
  private flightLines = 0;
  private written = 0;
  private dropped = 0;
  private writeErrors = 0;
  private failing: string | undefined;
  private closed = false;
  private handle: FileHandle | undefined;
  private size = 0;
  /** The current file does not end in a newline (a torn line from a crash): start the next write with one. */
  private torn = false;
  /** Flushes run one after the other on this chain. */
  private chain: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private readonly timer: NodeJS.Timeout;

  private readonly base: string;
  private readonly maxFileBytes: number;
  private readonly files: number;
  private readonly maxBufferBytes: number;
  private readonly sync: boolean;

  constructor(private readonly options: PermanentLogOptions) {
    this.base = join(options.dir, options.name ?? '.log-permanent');
    this.maxFileBytes = Math.max(1024, options.maxFileBytes ?? 1 << 20);
    this.files = Math.max(1, options.files ?? 2);
    this.maxBufferBytes = Math.max(1024, options.maxBufferBytes ?? 256 << 10);
    this.sync = options.sync ?? true;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    // The timer alone does not keep the process alive; close() flushes what is left.
    this.timer.unref();
  }

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.append({ time: this.options.now(), level: 'info', event, fields });
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.append({ time: this.options.now(), level: 'error', event, fields });
  }

  /** Queues one event (its own time kept); returns at once and never throws. */
  append(e: LogEvent): void {
    if (this.closed) return;
    try {
      const line = formatLine(e);
      const bytes = Buffer.byteLength(line);
      if (this.pendingBytes + this.flightBytes + bytes > this.maxBufferBytes) {
        this.drop(this.failing ? `flash write failed (${this.failing})` : 'buffer full');
        return;
      }
      this.pending.push(line);
      this.pendingBytes += bytes;
      if ((this.pendingBytes + this.flightBytes) * 2 >= this.maxBufferBytes && !this.failing) void this.flush();
    } catch {
      this.drop('unloggable event');
    }
  }

  /** Writes what is queued (joins a flush already queued); resolves when done, never rejects. */
  flush(): Promise<void> {
    if (this.flushQueued) return this.chain;
    this.flushQueued = true;
    this.chain = this.chain.then(async () => {
      this.flushQueued = false;
      await this.writePending();
    });
    return this.chain;
  }

  /**
   * The newest `count` events (all when omitted), oldest first, from the rotated files, the current
   * file and what is still queued. Lines that do not parse (a line torn by a crash) are skipped.
   */
  async read(count?: number): Promise<LogEvent[]> {
    await this.chain; // not in the middle of a rotation
    const events: LogEvent[] = [];
    for (let i = this.files - 1; i >= 0; i--) {
      let text: string;
      try {
        text = await readFile(this.fileName(i), 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        const e = parseLine(line);
        if (e) events.push(e);
      }
    }
    for (const p of this.pending) {
      const e = parseLine(typeof p === 'string' ? p : gapLine(p));
      if (e) events.push(e);
    }
    return count === undefined ? events : events.slice(-count);
  }

  stats(): PermanentLogStats {
    return {
      written: this.written,
      dropped: this.dropped,
      writeErrors: this.writeErrors,
      ...(this.failing !== undefined && { failing: this.failing }),
      bufferedLines: this.flightLines + this.pending.reduce((n, p) => n + (typeof p === 'string' ? 1 : 0), 0),
      bufferedBytes: this.flightBytes + this.pendingBytes,
    };
  }

  /** Flushes, fsyncs and closes the file. Lines that cannot be written by then are counted as dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    const lost = this.pending.reduce((n, p) => n + (typeof p === 'string' ? 1 : 0), 0);
    this.dropped += lost;
    this.pending = [];
    this.pendingBytes = 0;
    const h = this.handle;
    this.handle = undefined;
    if (h) {
      await h.sync().catch(() => {});
      await h.close().catch(() => {});
    }
  }

  private drop(reason: string): void {
    this.dropped++;
    const last = this.pending.at(-1);
    if (last !== undefined && typeof last !== 'string' && last.reason === reason) last.count++;
    else this.pending.push({ time: safeNow(this.options.now), count: 1, reason });
  }

  private fileName(i: number): string {
    return i === 0 ? this.base : `${this.base}.${i}`;
  }

  /** One flush: every queued line, in order, rotating as files fill. On failure the unwritten rest stays queued. */
  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.flightBytes = this.pendingBytes;
    this.flightLines = batch.reduce((n, p) => n + (typeof p === 'string' ? 1 : 0), 0);
    this.pending = [];
    this.pendingBytes = 0;
    const lines = batch.map((p) => (typeof p === 'string' ? p : gapLine(p)));
    let done = 0;
    try {
      while (done < lines.length) {
        const h = await this.current();
        let bytes = 0;
        let end = done;
        // As many lines as fit; an empty file takes at least one (lines are far below the file size).
        while (end < lines.length && (this.size + bytes + Buffer.byteLength(lines[end]!) <= this.maxFileBytes || this.size + bytes === 0)) {
          bytes += Buffer.byteLength(lines[end]!);
          end++;
        }
        if (end > done) {
          await this.writeAt(h, (this.torn ? '\n' : '') + lines.slice(done, end).join(''));
          this.torn = false;
          for (const p of batch.slice(done, end)) {
            if (typeof p !== 'string') continue;
            this.written++;
            this.flightLines--;
            this.flightBytes -= Buffer.byteLength(p);
          }
          done = end;
        }
        if (done < lines.length) await this.rotate();
      }
      if (this.sync && this.handle) await this.handle.datasync();
      this.failing = undefined;
    } catch (e) {
      this.writeErrors++;
      this.failing = (e as NodeJS.ErrnoException).code ?? 'EIO';
      // The unwritten rest goes back in front of anything queued meanwhile: order is kept, and the queue
      // stays bounded because append() counted the batch in flight against the limit all along.
      const rest = batch.slice(done);
      this.pending = [...rest, ...this.pending];
      this.pendingBytes = this.pending.reduce((n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p) : 0), 0);
    } finally {
      this.flightBytes = 0;
      this.flightLines = 0;
    }
  }

  /** Appends `text` whole or not at all: a short write is cut back so no torn line stays behind. */
  private async writeAt(h: FileHandle, text: string): Promise<void> {
    const buf = Buffer.from(text);
    const start = this.size;
    try {
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await h.write(buf, off, buf.length - off);
        off += bytesWritten;
      }
      this.size += buf.length;
    } catch (e) {
      await h.truncate(start).catch(() => {
        this.torn = true; // could not even cut back: the next write starts on a new line
      });
      throw e;
    }
  }

  private async current(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    const h = await open(this.base, 'a+', 0o600);
    try {
      const { size } = await h.stat();
      this.size = size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await h.read(last, 0, 1, size - 1);
        this.torn = last[0] !== 0x0a;
      }
    } catch (e) {
      await h.close().catch(() => {});
      throw e;
    }
    this.handle = h;
    return h;
  }

  /** current → .1 → .2 …; the oldest is overwritten. The renames are made durable with the directory. */
  private async rotate(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) {
      if (this.sync) await h.datasync().catch(() => {});
      await h.close().catch(() => {});
    }
    for (let i = this.files - 1; i >= 1; i--) {
      await rename(this.fileName(i - 1), this.fileName(i)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
    if (this.files === 1) {
      // One file only: start it afresh.
      const fresh = await open(this.base, 'w', 0o600);
      await fresh.close();
    }
    this.size = 0;
    this.torn = false;
    if (this.sync) {
      // A rename is durable once the directory is synced (POSIX rename(2)/fsync(2)).
      const d = await open(this.options.dir, 'r').catch(() => undefined);
      if (d) {
        await d.sync().catch(() => {});
        await d.close().catch(() => {});
      }
    }
  }
}

const safeNow = (now: () => number) => {
  try {
    return now();
  } catch {
    return 0;
  }
};

/** The JSON line of an event; secret-looking fields removed; an oversized line loses its fields. */
export function formatLine(e: LogEvent): string {
  const time = Number.isFinite(e.time) ? isoTime(e.time) : null;
  const fields = redactFields(e.fields).fields;
  let line: string;
  try {
    line = JSON.stringify({ time, level: e.level, event: e.event, fields });
  } catch {
    line = JSON.stringify({ time, level: e.level, event: e.event, fields: { unserializable: true } });
  }
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
    line = JSON.stringify({ time, level: e.level, event: String(e.event).slice(0, 256), fields: { truncated: true, bytes: Buffer.byteLength(line) } });
  }
  return line + '\n';
}

function gapLine(g: Gap): string {
  return JSON.stringify({ time: new Date(g.time).toISOString(), level: 'error', event: DROPPED_EVENT, fields: { lines: g.count, reason: g.reason } }) + '\n';
}

function parseLine(line: string): LogEvent | undefined {
  if (line.trim() === '') return undefined;
  try {
    const o = JSON.parse(line) as { time?: unknown; level?: unknown; event?: unknown; fields?: unknown };
    if (typeof o.level !== 'string' || typeof o.event !== 'string') return undefined;
    const time = typeof o.time === 'string' ? Date.parse(o.time) : NaN;
    const fields = o.fields !== null && typeof o.fields === 'object' && !Array.isArray(o.fields) ? (o.fields as Record<string, unknown>) : {};
    return { time, level: o.level, event: o.event, fields };
  } catch {
    return undefined;
  }
}
