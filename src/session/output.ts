/**
 * Output modifiers `| include RE`, `| exclude RE`, `| begin RE` (SPEC §3; FRR handle_pipe_action).
 * Keywords abbreviate like any other (`| inc`, awplus-spec.md §4.2 [FOUND S14]).
 *
 * Any CLI user may type a pattern, and the RADIUS server shares this process's one event loop, so a
 * pattern must never be able to stall the appliance. A backtracking RegExp can: `(.|.)*Q` on a line of
 * 40 characters takes longer than the universe (issue #17: one such filter from a privilege-1 SSH
 * account left RADIUS unanswered for 15 s and more). So patterns have RE2 semantics (re2js: time
 * linear in the input, no backreferences or lookaround), and both compiling and matching run in a
 * worker thread of their own, bounded in time and memory: even RE2's compile is proportional to the
 * pattern (`a{100}` repeated takes tens of milliseconds), and matching 10 000 lines takes as long.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** A parsed modifier. */
export interface Filter {
  readonly kind: 'include' | 'exclude' | 'begin';
  /** The pattern as typed (RE2 syntax). */
  readonly source: string;
}

const KINDS = ['include', 'exclude', 'begin'] as const;

/** Help shown for `|` and after it. */
export const filterHelp = {
  pipe: 'Output modifiers',
  include: 'Include lines that match',
  exclude: 'Exclude lines that match',
  begin: 'Begin with the line that matches',
  regex: 'Regular expression',
} as const;

/** A pattern longer than this is refused: nobody types one, and RE2 compiles in time proportional to it. */
export const MAX_PATTERN = 256;
/** How long each phase of a filter (compile, then match) may take; then it is stopped and the command fails. */
export const FILTER_TIME_LIMIT_MS = 5000;
/** Heap for one filter worker: the output lines and RE2's automaton, with room to spare. */
const FILTER_HEAP_MB = 64;
/** Filters running at once; more wait (each is a thread and up to FILTER_HEAP_MB). */
const MAX_WORKERS = 2;

/**
 * Splits `line` at the first ` | ` into the command and its filter.
 * @returns the command part and the filter; `error` names what was wrong with the modifier part.
 */
export function splitFilter(line: string):
  | { readonly command: string; readonly filter: Filter | undefined }
  | { readonly command: string; readonly error: 'invalid' | 'incomplete' | 'regex'; readonly column: number; readonly text: string } {
  const m = /\s\|(\s+|$)/.exec(line);
  if (!m) return { command: line, filter: undefined };
  const command = line.slice(0, m.index);
  const restStart = m.index + m[0].length;
  const rest = line.slice(restStart);
  const kw = /^\S+/.exec(rest);
  if (!kw) return { command, error: 'incomplete', column: restStart, text: '' };
  const word = kw[0].toLowerCase();
  const kind = KINDS.find((k) => k.startsWith(word));
  if (!kind) return { command, error: 'invalid', column: restStart, text: kw[0] };
  const source = rest.slice(kw[0].length).trim();
  if (!source) return { command, error: 'incomplete', column: restStart, text: '' };
  if (source.length > MAX_PATTERN) return { command, error: 'regex', column: restStart, text: source.slice(0, 40) + '…' };
  return { command, filter: { kind, source } };
}

/** Why a filter could not run. */
export class FilterError extends Error {
  constructor(
    readonly kind: 'regex' | 'time' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'FilterError';
  }
}

// The worker is plain CommonJS evaluated from this string, so it needs no TypeScript loader; re2js is
// required by its resolved path. It compiles, says so (or why not), then filters the lines it is sent.
const RE2JS_PATH = createRequire(import.meta.url).resolve('re2js');
const WORKER = `(() => {
  const { parentPort, workerData } = require('node:worker_threads');
  const { RE2JS } = require(${JSON.stringify(RE2JS_PATH)});
  let re;
  try {
    re = RE2JS.compile(workerData.source);
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) });
    return;
  }
  parentPort.postMessage({ ready: true });
  parentPort.once('message', (lines) => {
    let out;
    if (workerData.kind === 'include') out = lines.filter((l) => re.test(l));
    else if (workerData.kind === 'exclude') out = lines.filter((l) => !re.test(l));
    else {
      const i = lines.findIndex((l) => re.test(l));
      out = i < 0 ? [] : lines.slice(i);
    }
    parentPort.postMessage({ lines: out });
  });
})();`;

let running = 0;
const waiting: (() => void)[] = [];

async function slot(): Promise<() => void> {
  if (running >= MAX_WORKERS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  let freed = false;
  return () => {
    if (freed) return;
    freed = true;
    running--;
    waiting.shift()?.();
  };
}

/** A compiled filter, ready for the command's output. */
export interface OpenFilter {
  /** Filters the lines (once); rejects with FilterError past the time limit. */
  apply(lines: readonly string[]): Promise<string[]>;
  /** Stops the worker (the command failed, or was interrupted). */
  close(): void;
}

type Reply = { readonly error?: string; readonly ready?: boolean; readonly lines?: string[] };

/**
 * Compiles `filter` in a worker; rejects with FilterError('regex') when the pattern is not valid RE2.
 * Compiling, and later matching, each get `timeLimitMs`; `signal` (Ctrl-C) stops either.
 */
export async function openFilter(filter: Filter, signal?: AbortSignal, timeLimitMs = FILTER_TIME_LIMIT_MS): Promise<OpenFilter> {
  const free = await slot();
  let worker: Worker;
  try {
    worker = new Worker(WORKER, { eval: true, workerData: filter, resourceLimits: { maxOldGenerationSizeMb: FILTER_HEAP_MB } });
  } catch (e) {
    free();
    throw new FilterError('failed', (e as Error).message);
  }
  worker.unref();
  let failure: FilterError | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let waiter: { resolve: (m: Reply) => void; reject: (e: FilterError) => void } | undefined;

  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    void worker.terminate();
    free();
  };
  const fail = (e: FilterError) => {
    failure ??= e;
    close();
    waiter?.reject(failure);
    waiter = undefined;
  };
  const onAbort = () => fail(new FilterError('failed', 'interrupted'));
  /** The worker's next message, within the time limit. */
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      if (failure) return reject(failure);
      waiter = { resolve, reject };
      timer = setTimeout(() => fail(new FilterError('time', `stopped after ${timeLimitMs / 1000} s`)), timeLimitMs);
      timer.unref();
    }).finally(() => clearTimeout(timer));

  signal?.addEventListener('abort', onAbort);
  if (signal?.aborted) onAbort();
  worker.on('message', (m: Reply) => {
    const w = waiter;
    waiter = undefined;
    w?.resolve(m);
  });
  worker.on('error', (e) => fail(new FilterError('failed', e.message)));
  worker.on('exit', () => fail(new FilterError('failed', 'the filter ended early')));

  const first = await next();
  if (first.error !== undefined) {
    close();
    throw new FilterError('regex', first.error);
  }
  return {
    async apply(lines) {
      const reply = next();
      if (!failure) worker.postMessage(lines);
      const m = await reply;
      close();
      return m.lines ?? [];
    },
    close,
  };
}
