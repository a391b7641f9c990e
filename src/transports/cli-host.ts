/**
 * What a transport needs of the appliance (the console, the control socket, SSH): open a CLI session,
 * check a login, log. Transports depend on this, never on the appliance itself.
 */
import type { Account, CliLoginAttempt } from '../auth/cli-login.ts';
import type { OpenSessionOptions } from '../session/registry.ts';
import type { InteractiveSession } from '../session/types.ts';
import type { Log } from '../util/log.ts';

/** A session as a transport drives it. */
export interface CliSession extends InteractiveSession {
  readonly id: number;
  close(): void;
}

export interface CliHost {
  openSession(o: OpenSessionOptions): CliSession;
  /** Checks a login (logged, delayed on failure); the account or undefined. */
  login(attempt: CliLoginAttempt): Promise<Account | undefined>;
  hostname(): string;
  /** `exec-timeout` of the line a session is on (`line con 0`, `line vty`): idle seconds, 0 = never. */
  idleSeconds(via: 'console' | 'ssh'): number;
  readonly log: Log;
  /** Calls `listener` after every `reboot`; returns the way to stop. */
  onReboot(listener: () => void): () => void;
}
