/**
 * The self-registration page's listener (SPEC §8): HTTPS only, three routes, and the limits that keep
 * one browser (or a script pretending to be many) from tying it up. It follows the config like the
 * SSH and RADIUS listeners: apply() binds, moves, re-keys or closes it without a restart.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import { CsrfTokens } from './csrf.ts';
import { messagePage } from './html.ts';
import { HttpError, parseCookies, pathOf, readForm, SECURITY_HEADERS, type WebResponse } from './http.ts';
import { clientAddress, RateLimiter } from './rate-limit.ts';
import type { MutableCounters, Route, RouteContext, WebDeps } from './route.ts';
import { registrationForm } from './routes/registration-form.ts';
import { registrationLogin } from './routes/registration-login.ts';
import { stylesheet } from './routes/stylesheet.ts';
import type { RegistrationBackend, WebCounters, WebLimits, WebSettings, WebStatus } from './types.ts';

/** Every route the page has; anything else is 404, another method on these paths 405. */
export const ROUTES: readonly Route[] = [registrationForm, registrationLogin, stylesheet];

export const DEFAULT_LIMITS: WebLimits = {
  bodyBytes: 4096,
  postsPerWindow: 10,
  windowMs: 60_000,
  trackedClients: 10_000,
  formLifetimeMs: 2 * 3_600_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  timeoutCheckMs: 1_000,
  handshakeTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
  drainMs: 5_000,
};

/** Request heads larger than this are refused with 431 (Node's default is 16 KB). */
const MAX_HEADER_BYTES = 8192;

export interface RegistrationServerOptions {
  readonly backend: RegistrationBackend;
  readonly log: Log;
  readonly clock: Clock;
  readonly limits?: Partial<WebLimits>;
}

/** Words an operator can act on for a failed listen(). */
function listenError(e: NodeJS.ErrnoException, s: WebSettings): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${s.port} is already in use`;
    case 'EACCES':
      return `no permission to listen on port ${s.port}`;
    case 'EADDRNOTAVAIL':
      return `address ${s.host} is not an address of this system`;
    default:
      return `cannot listen on port ${s.port}: ${e.code ?? e.message}`;
  }
}

const certificateError = (e: Error) => `the certificate or key was not accepted: ${e.message}`;

export class RegistrationServer {
  private server: Server | undefined;
  /** What the live listener was made from (port as asked: 0 stays 0). */
  private current: WebSettings | undefined;
  private lastError: string | undefined;
  private applying: Promise<unknown> = Promise.resolve();
  private readonly sockets = new WeakMap<Server, Set<Socket>>();
  private readonly deps: WebDeps;
  private readonly counts: MutableCounters = {
    registrations: 0,
    failures: { 'bad-login': 0, 'locked-out': 0, 'already-registered': 0, 'first-factor-timeout': 0, unavailable: 0 },
    csrfRejected: 0,
    rateLimited: 0,
  };

  constructor(options: RegistrationServerOptions) {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    // Node refuses a head timeout longer than the whole request's; say so here, not as a listen error.
    if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new RangeError('headersTimeoutMs must not exceed requestTimeoutMs');
    this.deps = {
      backend: options.backend,
      log: options.log,
      clock: options.clock,
      limits,
      csrf: new CsrfTokens(options.clock, limits.formLifetimeMs),
      limiter: new RateLimiter(options.clock, limits.postsPerWindow, limits.windowMs, limits.trackedClients),
      counters: this.counts,
    };
  }

  status(): WebStatus {
    const address = this.server?.address();
    return { listening: this.server !== undefined, port: typeof address === 'object' && address ? address.port : undefined, error: this.lastError };
  }

  /** A snapshot of the counters. */
  counters(): WebCounters {
    return { ...this.counts, failures: Object.freeze({ ...this.counts.failures }) };
  }

  /**
   * Makes the listener match `settings` (undefined = disabled): binds, moves to another port, loads a
   * new certificate in place, or closes. Calls are serialised. Resolves to an error text when it
   * cannot listen (port in use, bad certificate); a refused certificate change keeps the old one.
   */
  apply(settings: WebSettings | undefined): Promise<string | undefined> {
    const run = this.applying.then(() => this.reconcile(settings));
    this.applying = run;
    return run;
  }

  /** Stops listening; requests in flight get `drainMs` to finish. */
  async close(): Promise<void> {
    await this.apply(undefined);
  }

  private async reconcile(want: WebSettings | undefined): Promise<string | undefined> {
    const have = this.current;
    const server = this.server;
    if (want && have && server && want.port === have.port && want.host === have.host) {
      if (want.cert === have.cert && want.key === have.key) return undefined;
      try {
        // New connections get the new certificate; nothing is dropped (a renewed certificate).
        server.setSecureContext({ cert: want.cert, key: want.key });
      } catch (e) {
        this.lastError = certificateError(e as Error);
        this.deps.log.error('web-certificate-refused', { error: this.lastError });
        return this.lastError;
      }
      this.current = want;
      this.lastError = undefined;
      this.deps.log.info('web-certificate-loaded', { port: this.status().port });
      return undefined;
    }
    this.lastError = undefined;
    if (server) {
      this.server = undefined;
      this.current = undefined;
      await this.retire(server, want === undefined);
      this.deps.log.info('web-stopped', {});
    }
    if (want === undefined) return undefined;
    return this.listen(want);
  }

  private async listen(want: WebSettings): Promise<string | undefined> {
    const l = this.deps.limits;
    let server: Server;
    try {
      server = createServer(
        {
          cert: want.cert,
          key: want.key,
          minVersion: 'TLSv1.2',
          handshakeTimeout: l.handshakeTimeoutMs,
          // Slowloris: the head and the whole request must arrive in bounded time (OWASP Denial of Service Cheat Sheet).
          headersTimeout: l.headersTimeoutMs,
          requestTimeout: l.requestTimeoutMs,
          connectionsCheckingInterval: l.timeoutCheckMs,
          keepAliveTimeout: l.keepAliveTimeoutMs,
          maxHeaderSize: MAX_HEADER_BYTES,
        },
        (req, res) =>
          // Nothing a browser sends may end in an unhandled rejection (it would take the daemon down).
          this.request(server, req, res).catch((e: unknown) => {
            this.deps.log.error('web-internal-error', { message: (e as Error).message });
            res.destroy();
          }),
      );
    } catch (e) {
      this.lastError = certificateError(e as Error);
      this.deps.log.error('web-listen-failed', { port: want.port, error: this.lastError });
      return this.lastError;
    }
    server.maxConnections = l.maxConnections;
    // Every TCP connection, also those still in the TLS handshake that Node's HTTP layer does not
    // track yet, so retire() can end them all.
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    this.sockets.set(server, sockets);
    server.on('clientError', (e: NodeJS.ErrnoException, socket: Socket) => clientError(e, socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: want.port, host: want.host ?? '0.0.0.0', exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.lastError = listenError(e as NodeJS.ErrnoException, want);
      this.deps.log.error('web-listen-failed', { port: want.port, error: this.lastError });
      return this.lastError;
    }
    server.on('error', (e: Error) => this.deps.log.error('web-server-error', { message: e.message }));
    this.server = server;
    this.current = want;
    this.deps.log.info('web-listening', { port: this.status().port });
    return undefined;
  }

  /**
   * Stops accepting at once and closes idle keep-alive connections; requests in flight may finish
   * (a registration half done must still show its secret) for `drainMs`, then every connection is cut.
   * Waits for the end only when asked (shutdown); a port move does not wait for old browsers.
   */
  private async retire(server: Server, wait: boolean): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const socket of this.sockets.get(server) ?? []) socket.destroy();
    }, this.deps.limits.drainMs);
    timer.unref();
    void closed.then(() => clearTimeout(timer));
    if (wait) await closed;
  }

  private async request(server: Server, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let answer: WebResponse;
    try {
      answer = await this.route(req);
    } catch (e) {
      if (e instanceof HttpError) {
        answer = { status: e.status, body: messagePage(STATUS_CODES[e.status] ?? 'Error', e.message), headers: e.headers, close: e.close };
      } else {
        this.deps.log.error('web-internal-error', { message: (e as Error).message });
        answer = { status: 500, body: messagePage('Something went wrong', 'The page could not be shown. Please try again later.') };
      }
    }
    // A listener that was closed or moved lets this browser go after the answer.
    const close = answer.close === true || this.server !== server;
    send(res, answer, req.method === 'HEAD', close);
  }

  private async route(req: IncomingMessage): Promise<WebResponse> {
    const path = pathOf(req.url);
    const onPath = ROUTES.filter((r) => r.path === path);
    if (onPath.length === 0) throw new HttpError(404, 'There is no page at this address.');
    // RFC 9110 §9.3.2: HEAD is GET without the body.
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = onPath.find((r) => r.method === method);
    if (!route) {
      const allow = onPath.flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method]));
      // RFC 9110 §15.5.6: a 405 lists what is allowed.
      throw new HttpError(405, 'This page does not accept that request.', { Allow: allow.join(', ') });
    }
    const ctx: RouteContext = {
      req,
      client: clientAddress(req.socket.remoteAddress),
      cookies: parseCookies(req.headers.cookie),
      readForm: () => readForm(req, this.deps.limits.bodyBytes),
      deps: this.deps,
    };
    return route.handle(ctx);
  }
}

function send(res: ServerResponse, answer: WebResponse, head: boolean, close: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(answer.body, 'utf8');
  res.writeHead(answer.status, {
    ...answer.headers,
    ...SECURITY_HEADERS,
    'Content-Type': answer.contentType ?? 'text/html; charset=utf-8',
    'Content-Length': body.length,
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(head ? undefined : body);
}

/**
 * A request Node could not parse, or one too slow (408) or too large in its head (431): answered like
 * Node's own default, plus the headers every response carries. https.Server also hands TLS failures
 * here (a handshake that timed out or failed): those sockets cannot carry an HTTP answer and are
 * destroyed, or a client that never finishes its handshake would hold its connection for ever.
 */
function clientError(e: NodeJS.ErrnoException, socket: Socket): void {
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  const http = e.code === 'ERR_HTTP_REQUEST_TIMEOUT' || e.code?.startsWith('HPE_') === true;
  if (!http || !socket.writable || started) {
    socket.destroy();
    return;
  }
  const status = e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : e.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const headers = Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k}: ${String(v)}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}Content-Length: 0\r\nConnection: close\r\n\r\n`);
}
