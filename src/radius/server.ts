/**
 * The local RADIUS server (SPEC §6): `handle(datagram, from)` runs the request path of pipeline.ts and
 * returns the reply bytes, or undefined to stay silent. It does no I/O (aedes handle(stream), Go
 * layeh Handler), so it is tested directly and udp.ts only moves bytes.
 */
import type { Log } from '../util/log.ts';
import { DuplicateCache } from './dedupe.ts';
import { PIPELINE } from './pipeline.ts';
import type { RadiusRequest, Remote, StepEnv } from './step.ts';
import { ServerStats, type DropReason } from './stats.ts';

export class RadiusServer {
  readonly stats = new ServerStats();
  private readonly env: StepEnv;

  constructor(deps: Omit<StepEnv, 'duplicates' | 'stats' | 'log'>, private readonly log: Log) {
    this.env = { ...deps, duplicates: new DuplicateCache(), stats: this.stats, log };
  }

  /** Answers one datagram; undefined = no answer (silently discarded). */
  async handle(datagram: Buffer, from: Remote): Promise<Buffer | undefined> {
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
    for (const [, step] of PIPELINE) {
      // Most steps answer at once; only the decision waits (no microtask for the others).
      const answer = step(req, this.env);
      const r = answer instanceof Promise ? await answer : answer;
      if (r.kind === 'reply') return r.reply;
      if (r.kind === 'drop') return this.drop(r.reason, req.from);
    }
    throw new Error('RADIUS pipeline ended without an answer');
  }

  private drop(reason: DropReason, from: Remote): undefined {
    this.stats.drop(reason);
    this.log.info('radius-drop', { client: from.address, reason });
    return undefined;
  }
}
