/**
 * The local RADIUS server (SPEC §6): `handle(datagram, from)` runs the request path of pipeline.ts and
 * returns the reply bytes, or undefined to stay silent. It does no I/O (aedes handle(stream), Go
 * layeh Handler), so it is tested directly and udp.ts only moves bytes.
 */
import type { Log } from '../util/log.ts';
import { DuplicateCache } from './dedupe.ts';
import { PIPELINE, type Pipeline } from './pipeline.ts';
import type { RadiusRequest, Remote, StepEnv } from './step.ts';
import { DropSummary, ServerStats, type DropReason } from './stats.ts';

export interface RadiusServerOptions {
  /** Bytes the duplicate cache may hold (default dedupe.ts DEFAULT_BUDGET). */
  readonly duplicateBudget?: number;
  /** The request path (default PIPELINE; the accounting port's is ACCOUNTING_PIPELINE). */
  readonly pipeline?: Pipeline;
  /** The drop summary's audit event (default `radius-drops`). */
  readonly dropEvent?: string;
}

export class RadiusServer {
  readonly stats = new ServerStats();
  private readonly env: StepEnv;
  private readonly drops: DropSummary;
  private readonly pipeline: Pipeline;

  constructor(deps: Omit<StepEnv, 'duplicates' | 'stats' | 'log'>, private readonly log: Log, options: RadiusServerOptions = {}) {
    this.env = { ...deps, duplicates: new DuplicateCache(options.duplicateBudget), stats: this.stats, log };
    this.drops = new DropSummary(log, undefined, options.dropEvent);
    this.pipeline = options.pipeline ?? PIPELINE;
  }

  /** The duplicate cache (its size is reported and bounded in bytes). */
  get duplicates(): DuplicateCache {
    return this.env.duplicates;
  }

  /** Answers one datagram; undefined = no answer (silently discarded). */
  async handle(datagram: Buffer, from: Remote): Promise<Buffer | undefined> {
    this.stats.received++;
    const req: RadiusRequest = { datagram, from, onAnswer: [] };
    let answer: Buffer | undefined;
    try {
      answer = await this.run(req);
    } catch (e) {
      this.log.error('radius-internal-error', { client: from.address, message: (e as Error).message });
      answer = this.drop('internal-error', from);
    }
    for (const f of req.onAnswer) f(answer);
    return answer;
  }

  private async run(req: RadiusRequest): Promise<Buffer | undefined> {
    for (const [, step] of this.pipeline) {
      // Most steps answer at once; only the decision waits (no microtask for the others).
      const answer = step(req, this.env);
      const r = answer instanceof Promise ? await answer : answer;
      if (r.kind === 'reply') return r.reply;
      if (r.kind === 'drop') return this.drop(r.reason, req.from);
    }
    throw new Error('RADIUS pipeline ended without an answer');
  }

  /** Counted at once, logged only in the periodic summary (stats.ts DropSummary: anyone can cause a drop). */
  private drop(reason: DropReason, from: Remote): undefined {
    this.stats.drop(reason);
    this.drops.record(reason, from.address);
    return undefined;
  }

  /** Writes the pending drop summary now (shutdown; tests). */
  flushDropSummary(): void {
    this.drops.close();
  }
}
