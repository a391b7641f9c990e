/**
 * The self-registration page's contract with the rest of the appliance (SPEC §8). The page knows no
 * CLI, config or user store: whoever starts it hands it a backend that checks the first factor and
 * creates the TOTP user, and tells it where to listen. The backend's side of the contract is in
 * auth/types.ts (auth implements it; the page only calls it).
 */
import type { RegistrationFailure } from '../auth/types.ts';

export type { Registration, RegistrationBackend, RegistrationFailure, RegistrationResult } from '../auth/types.ts';

/** Where and how to listen (from `2fa self-registration port` and the certificate in flash). */
export interface WebSettings {
  /** TCP port; 0 picks a free port (tests), `status().port` tells which. */
  readonly port: number;
  /** PEM certificate chain and private key. */
  readonly cert: string;
  readonly key: string;
  /** Address to bind; all IPv4 addresses when omitted. */
  readonly host?: string;
}

/** Resource limits; the defaults suit an appliance, tests shorten the timeouts. */
export interface WebLimits {
  /** Largest accepted request body (413 above). */
  readonly bodyBytes: number;
  /** POSTs allowed per client address in `windowMs` (429 above). */
  readonly postsPerWindow: number;
  readonly windowMs: number;
  /** Addresses the rate limiter remembers at most (oldest forgotten first). */
  readonly trackedClients: number;
  /** How long a form stays valid (its CSRF token's lifetime). */
  readonly formLifetimeMs: number;
  /** Whole request head must arrive within this (slowloris); 408 after it. */
  readonly headersTimeoutMs: number;
  /** Whole request (head and body) must arrive within this. */
  readonly requestTimeoutMs: number;
  /** How often Node checks the two timeouts above. */
  readonly timeoutCheckMs: number;
  /** TLS handshake must finish within this. */
  readonly handshakeTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Simultaneous connections at most. */
  readonly maxConnections: number;
  /** How long in-flight requests may finish after the listener is closed or moved. */
  readonly drainMs: number;
}

/** Counted since the page object was made, for `show 2fa self-registration`. */
export interface WebCounters {
  readonly registrations: number;
  readonly failures: Readonly<Record<RegistrationFailure, number>>;
  /** POSTs refused for a missing, wrong or expired form token, or a foreign Origin. */
  readonly csrfRejected: number;
  /** POSTs refused by the per-address rate limit. */
  readonly rateLimited: number;
}

/** The listener as it is now. */
export interface WebStatus {
  readonly listening: boolean;
  /** The bound port while listening. */
  readonly port: number | undefined;
  /** Why the last apply() could not listen, in words an operator can act on. */
  readonly error: string | undefined;
}
