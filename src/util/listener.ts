/**
 * A listener that follows the running config (BIRD reconfigure): `apply({port, host})` binds,
 * re-binds or closes so that it listens there (undefined = closed). Calls run one at a time; a port that
 * cannot be had is reported as a text, not thrown, and the setting stays (the next apply retries).
 * The same reconciler serves the RADIUS UDP socket and the SSH server (the registration page, which
 * also swaps certificates in place, has its own in web/service.ts).
 */
import type { Log } from './log.ts';

export interface ListenerStatus {
  readonly listening: boolean;
  readonly port: number | undefined;
  /** Why the configured port could not be bound. */
  readonly error: string | undefined;
}

/** Where to listen: a port, on every address of `host`'s family (default IPv4 `0.0.0.0`; `::` is dual-stack). */
export interface ListenAt {
  readonly port: number;
  readonly host?: string;
}

/** How to open and close one kind of server. */
export interface Binder<H> {
  /** A short name for log events (`radius`, `ssh`). */
  readonly name: string;
  open(at: Required<ListenAt>): Promise<H>;
  close(handle: H): void | Promise<void>;
}

export class Listener<H> {
  private handle: H | undefined;
  private at: Required<ListenAt> | undefined;
  private error: string | undefined;
  private applying: Promise<unknown> = Promise.resolve();
  private held = false;

  constructor(
    private readonly binder: Binder<H>,
    private readonly log: Log,
  ) {}

  status(): ListenerStatus {
    return { listening: this.handle !== undefined, port: this.at?.port, error: this.error };
  }

  /** The open server, if any. */
  get current(): H | undefined {
    return this.handle;
  }

  /**
   * While a startup config is being applied nothing is bound: a config that says `server enable` before
   * `server auth-port N` must not answer on the default port first. `release` is followed by an apply.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }

  /** Listens at `want` (undefined = closed); resolves to an error text when the port cannot be bound. */
  apply(want: ListenAt | undefined, force = false): Promise<string | undefined> {
    if (this.held) return Promise.resolve(undefined);
    const at = want && { port: want.port, host: want.host ?? '0.0.0.0' };
    const run = this.applying.then(() => this.reconcile(at, force));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async reconcile(want: Required<ListenAt> | undefined, force: boolean): Promise<string | undefined> {
    const same = want?.port === this.at?.port && want?.host === this.at?.host;
    if (!force && same && (want === undefined || this.handle !== undefined)) return undefined;
    const old = this.handle;
    this.handle = undefined;
    this.at = undefined;
    this.error = undefined;
    if (old !== undefined) await this.binder.close(old);
    if (want === undefined) return undefined;
    try {
      this.handle = await this.binder.open(want);
    } catch (e) {
      this.error = `${(e as NodeJS.ErrnoException).code ?? (e as Error).message} on port ${want.port}`;
      this.log.error(`${this.binder.name}-listen-failed`, { port: want.port, error: this.error });
      return this.error;
    }
    this.at = want;
    this.log.info(`${this.binder.name}-listening`, { port: want.port, host: want.host });
    return undefined;
  }

  /** Closes the server (shutdown). */
  async stop(): Promise<void> {
    await this.apply(undefined);
  }
}
