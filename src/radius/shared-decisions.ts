/**
 * Decisions shared by the appliances of a group (SPEC §16): what the RADIUS server asks of a shared
 * store so that a retransmission reaching another appliance gets the answer the first one gave (RFC
 * 5080 §2.2.2 holds within one server; a NAS with two servers retries on the other). The store only
 * keeps opaque keys and JSON (twofa/store/pg-decisions.ts); what a request key and a decision are is
 * said here. Absent (the embedded store), the duplicate step is what it always was.
 */
import { createHash } from 'node:crypto';
import type { LoginDecision } from '../auth/types.ts';
import type { Packet } from './packet.ts';

export interface SharedDecisionKey {
  readonly client: string;
  readonly request: Buffer;
  readonly digest: Buffer;
}

export type SharedClaim =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'in-progress' }
  | { readonly kind: 'done'; readonly decision: unknown }
  | { readonly kind: 'different' };

/** What a shared store offers (PostgresDecisions). */
export interface SharedDecisions {
  /** Takes the request for this appliance to decide, or says who has it and what was decided. */
  claim(key: SharedDecisionKey): Promise<SharedClaim>;
  /** The decision of a claimed request (as `encodeDecision` made it), or undefined to give the claim up. */
  record(key: SharedDecisionKey, decision: unknown): Promise<void>;
}

/**
 * The key of a request across appliances: the NAS address (not its port: a NAS may send from another
 * port to each server), the Identifier and the Request Authenticator (RFC 5080 §2.2.2), and a digest
 * of the whole datagram, so that another request that happens to reuse both is not answered with this
 * one's decision. A NAS resends the same bytes only when both appliances share its secret (User-Password
 * and Message-Authenticator depend on it).
 */
export function sharedKey(client: string, packet: Packet, datagram: Buffer): SharedDecisionKey {
  return {
    client,
    request: Buffer.concat([Buffer.of(packet.identifier), packet.authenticator]),
    digest: createHash('sha256').update(datagram).digest(),
  };
}

/** A decision as the shared store keeps it (JSON; a challenge's State as hex). */
export function encodeDecision(d: LoginDecision): unknown {
  if (d.kind === 'challenge') return { kind: d.kind, reason: d.reason, token: d.token.toString('hex'), prompt: d.prompt };
  if (d.kind === 'reject') return d.message === undefined ? { kind: d.kind, reason: d.reason } : { kind: d.kind, reason: d.reason, message: d.message };
  return { kind: d.kind, reason: d.reason };
}

/** The decision a shared store gave back, or undefined when it is not one (then the request is decided here). */
export function decodeDecision(v: unknown): LoginDecision | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o['reason'] !== 'string') return undefined;
  const reason = o['reason'];
  if (o['kind'] === 'accept') return { kind: 'accept', reason };
  if (o['kind'] === 'reject') return typeof o['message'] === 'string' ? { kind: 'reject', reason, message: o['message'] } : { kind: 'reject', reason };
  if (o['kind'] === 'challenge' && typeof o['token'] === 'string' && /^([0-9a-f]{2})+$/.test(o['token']) && typeof o['prompt'] === 'string') {
    return { kind: 'challenge', reason, token: Buffer.from(o['token'], 'hex'), prompt: o['prompt'] };
  }
  return undefined;
}
