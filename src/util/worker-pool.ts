/**
 * CPU-heavy work off the event loop. A crypt(3) `$6$` check or hash costs about 5 ms of CPU, the
 * worst-case skew search (±3000 steps) about 11 ms; on the event loop that is time during which no other
 * login (RADIUS, SSH, the registration page) is answered, and a burst of first logins after a restart, a
 * stream of wrong passwords or of far-off codes would hold every user's login behind them. They run in
 * worker threads instead (worker-thread.mjs), one per core up to MAX_WORKERS, started on first use and
 * left idle (not keeping the process alive) when there is nothing to do.
 *
 * A task is a function exported by one of our modules, given to `bind` with that module's URL; the
 * thread imports the module and calls the export of the same name with the same arguments (copied:
 * a Buffer arrives as a Uint8Array). The queue is bounded: a task that finds MAX_QUEUED others waiting
 * is refused (PoolBusy) rather than answered seconds later, after the NAS has given up, with the backlog
 * still growing.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Log } from './log.ts';

const MAX_WORKERS = 4;
/** About 1–2 s of `$6$` checks on two cores: longer than that, the NAS has retransmitted or given up. */
const MAX_QUEUED = 500;
const SCRIPT = new URL('./worker-thread.mjs', import.meta.url);

/** Too many tasks are waiting: the caller answers as for a source that did not answer in time. */
export class PoolBusy extends Error {
  constructor() {
    super('too many tasks are waiting for a worker thread');
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(e: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

type Task = (...args: never[]) => unknown;

export class WorkerPool {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private queued = 0;
  private closed = false;

  constructor(
    /** Where a thread that fails is reported: its tasks are refused until it is replaced. */
    private readonly log: Log,
    private readonly size = Math.min(MAX_WORKERS, availableParallelism()),
    private readonly maxQueued = MAX_QUEUED,
  ) {}

  /**
   * `fn`, exported under its own name by the module at `module`, as a function that runs it in a worker
   * thread: the same arguments, its result as a promise (rejected with PoolBusy when too many wait, or
   * when the thread fails or the pool is closed).
   */
  bind<F extends Task>(module: URL, fn: F): (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>> {
    const task = { module: module.href, name: fn.name };
    return (...args) => this.run(task, args) as Promise<Awaited<ReturnType<F>>>;
  }

  /** Stops the threads; tasks still waiting are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.splice(0).map((t) => (this.fail(t, new Error('worker threads are stopped')), t.worker.terminate())));
  }

  private async run(task: { module: string; name: string }, args: unknown[]): Promise<unknown> {
    if (this.closed) throw new Error('worker threads are stopped');
    if (this.queued >= this.maxQueued) throw new PoolBusy();
    const thread = this.leastBusy();
    const id = this.nextId++;
    this.queued++;
    if (thread.pending.size === 0) thread.worker.ref();
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, ...task, args });
    });
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
    thread.worker.on('message', ({ id, result, error }: { id: number; result?: unknown; error?: string }) => {
      const p = thread.pending.get(id);
      if (!p) return;
      thread.pending.delete(id);
      this.queued--;
      if (thread.pending.size === 0) thread.worker.unref();
      if (error === undefined) p.resolve(result);
      else p.reject(new Error(error));
    });
    // A thread that fails takes its waiting tasks with it; the next task starts a new one.
    const gone = (e: Error) => {
      const i = this.threads.indexOf(thread);
      if (i < 0) return;
      this.threads.splice(i, 1);
      this.log.error('worker-thread-failed', { error: e.message, refused: thread.pending.size });
      this.fail(thread, e);
    };
    thread.worker.on('error', gone);
    thread.worker.on('exit', (code) => gone(new Error(`worker thread exited (${code})`)));
    this.threads.push(thread);
    return thread;
  }

  private fail(thread: Thread, e: Error): void {
    for (const p of thread.pending.values()) p.reject(e);
    this.queued -= thread.pending.size;
    thread.pending.clear();
  }
}
