/**
 * crypt(3) checks off the event loop. A `$6$` check costs about 5 ms of CPU; on the event loop that is
 * 5 ms during which no other login (RADIUS, SSH, the registration page) is answered, and a burst of
 * first logins after a restart, or a stream of wrong passwords, would hold every user's login behind
 * them. The checks run in worker threads instead (crypt-worker.mjs), one per core up to MAX_WORKERS,
 * started on first use and left idle (not keeping the process alive) when there is nothing to check.
 *
 * The queue is bounded: a check that finds MAX_QUEUED others waiting is refused (CryptBusy) rather than
 * answered seconds later, after the NAS has given up, with the backlog still growing.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Log } from './log.ts';

const MAX_WORKERS = 4;
/** About 1–2 s of `$6$` checks on two cores: longer than that, the NAS has retransmitted or given up. */
const MAX_QUEUED = 500;
const SCRIPT = new URL('./crypt-worker.mjs', import.meta.url);

/** How the front doors check a password against a crypt(3) hash: CryptWorkers.verify, off the event loop. */
export type PasswordCheck = (password: string, hash: string) => Promise<boolean>;

/** Too many checks are waiting: the caller answers as for a source that did not answer in time. */
export class CryptBusy extends Error {
  constructor() {
    super('too many password checks are waiting');
  }
}

interface Pending {
  resolve(ok: boolean): void;
  reject(e: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

export class CryptWorkers {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private queued = 0;
  private closed = false;

  constructor(
    /** Where a thread that fails is reported: its checks are refused, so logins fail until it is back. */
    private readonly log: Log,
    private readonly size = Math.min(MAX_WORKERS, availableParallelism()),
    private readonly maxQueued = MAX_QUEUED,
  ) {}

  /** Whether `password` matches the crypt(3) `hash` (false for a hash that cannot be read). */
  async verify(password: string, hash: string): Promise<boolean> {
    if (this.closed) throw new Error('password checks are stopped');
    if (this.queued >= this.maxQueued) throw new CryptBusy();
    const thread = this.leastBusy();
    const id = this.nextId++;
    this.queued++;
    if (thread.pending.size === 0) thread.worker.ref();
    return new Promise<boolean>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, password, hash });
    });
  }

  /** Stops the threads; checks still waiting are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.splice(0).map((t) => (this.fail(t, new Error('password checks are stopped')), t.worker.terminate())));
  }

  /** An idle thread, a new one while there are fewer than `size`, else the one with the shortest queue. */
  private leastBusy(): Thread {
    const idle = this.threads.find((t) => t.pending.size === 0);
    if (idle) return idle;
    if (this.threads.length < this.size) return this.start();
    return this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  private start(): Thread {
    // No inherited Node options: the script registers its own TypeScript loader.
    const thread: Thread = { worker: new Worker(SCRIPT, { execArgv: [] }), pending: new Map() };
    thread.worker.unref();
    thread.worker.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      const p = thread.pending.get(id);
      if (!p) return;
      thread.pending.delete(id);
      this.queued--;
      if (thread.pending.size === 0) thread.worker.unref();
      p.resolve(ok);
    });
    // A thread that fails takes its waiting checks with it; the next check starts a new one.
    const gone = (e: Error) => {
      const i = this.threads.indexOf(thread);
      if (i < 0) return;
      this.threads.splice(i, 1);
      this.log.error('password-check-failed', { error: e.message, refused: thread.pending.size });
      this.fail(thread, e);
    };
    thread.worker.on('error', gone);
    thread.worker.on('exit', (code) => gone(new Error(`password check thread exited (${code})`)));
    this.threads.push(thread);
    return thread;
  }

  private fail(thread: Thread, e: Error): void {
    for (const p of thread.pending.values()) p.reject(e);
    this.queued -= thread.pending.size;
    thread.pending.clear();
  }
}
