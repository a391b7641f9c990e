/**
 * What a step of the RADIUS request path (pipeline.ts) gets and returns: the request with what earlier
 * steps learned, the environment, and continue / reply / drop.
 */
import type { FirstFactorSource, LoginDecision, LoginRequest } from '../auth/types.ts';
import type { Log } from '../util/log.ts';
import type { DuplicateCache } from './dedupe.ts';
import type { Packet } from './packet.ts';
import type { SharedDecisionKey, SharedDecisions } from './shared-decisions.ts';
import type { DropReason, ServerStats } from './stats.ts';
import type { NasEntry, RadiusSettings } from './types.ts';

export interface Remote {
  readonly address: string;
  readonly port: number;
}

/** One request as it moves down the table; each step fills in what the later ones need. */
export interface RadiusRequest {
  readonly datagram: Buffer;
  readonly from: Remote;
  nas?: NasEntry;
  secret?: Buffer;
  packet?: Packet;
  password?: Buffer;
  decision?: LoginDecision;
  /** This appliance claimed the request in the group's shared decision table (steps/shared-duplicates.ts). */
  sharedClaim?: { readonly table: SharedDecisions; readonly key: SharedDecisionKey; recorded: boolean };
  /** Run once the request has its answer (or none): the duplicate cache records it. */
  readonly onAnswer: ((reply: Buffer | undefined) => void)[];
}

/** What the steps may use. */
export interface StepEnv {
  readonly settings: () => RadiusSettings;
  readonly duplicates: DuplicateCache;
  readonly stats: ServerStats;
  readonly log: Log;
  readonly now: () => number;
  /** The login decision (auth/login.ts). */
  readonly login: (r: LoginRequest) => Promise<LoginDecision>;
  /** `nas … ` without `2fa`: the local user table. */
  readonly localUsers: FirstFactorSource;
  /** `nas … 2fa`: the first factor of `aaa authentication openvpn`. */
  readonly openvpnFirstFactor: FirstFactorSource;
  /** Decisions shared with the other appliances of a group (a shared store); undefined: this appliance alone. */
  readonly sharedDecisions?: () => SharedDecisions | undefined;
}

export type StepResult = { readonly kind: 'continue' } | { readonly kind: 'reply'; readonly reply: Buffer } | { readonly kind: 'drop'; readonly reason: DropReason };

export type Step = (req: RadiusRequest, env: StepEnv) => StepResult | Promise<StepResult>;

export const next: StepResult = { kind: 'continue' };
export const drop = (reason: DropReason): StepResult => ({ kind: 'drop', reason });

/** A field an earlier step must have set (a missing one is a defect in the table's order). */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`RADIUS pipeline: ${what} is not known yet`);
  return value;
}
