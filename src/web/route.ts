/**
 * What a route file gets and gives: one method on one path, an answer as a value. The server owns the
 * socket, the security headers and the errors.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import type { CsrfTokens } from './csrf.ts';
import type { WebResponse } from './http.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { RegistrationBackend, RegistrationFailure, WebLimits } from './types.ts';

/** The counters the routes update (read-only copies go out through the server). */
export interface MutableCounters {
  registrations: number;
  failures: Record<RegistrationFailure, number>;
  csrfRejected: number;
  rateLimited: number;
}

/** Long-lived parts shared by every request. */
export interface WebDeps {
  readonly backend: RegistrationBackend;
  readonly log: Log;
  readonly clock: Clock;
  readonly csrf: CsrfTokens;
  readonly limiter: RateLimiter;
  readonly limits: WebLimits;
  readonly counters: MutableCounters;
}

/** One request as a route sees it. */
export interface RouteContext {
  readonly req: IncomingMessage;
  /** The peer's address, IPv4-mapped addresses shown as IPv4. */
  readonly client: string;
  readonly cookies: ReadonlyMap<string, string>;
  /** Reads the urlencoded body within the size limit (throws HttpError 413/415/400). */
  readForm(): Promise<URLSearchParams>;
  readonly deps: WebDeps;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  handle(ctx: RouteContext): Promise<WebResponse> | WebResponse;
}
