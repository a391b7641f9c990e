/**
 * Every open CLI session of the appliance (`show users`), opened with the environment they share.
 * A session leaves the registry when it closes; boot-file sessions are never listed.
 */
import { Session, type SessionEnvironment } from './session.ts';
import type { SessionSource } from './context.ts';

/** How a transport opens a CLI session. */
export interface OpenSessionOptions {
  readonly source: SessionSource;
  readonly user: string;
  readonly userPrivilege: number;
  readonly enabled: boolean;
  /** Client address for remote sessions, `console` or `local` otherwise. */
  readonly location: string;
  readonly terminalLength?: number;
  /** False when no prompt is shown before the line (SSH exec): the `^` marker then counts from column 0. */
  readonly echoesPrompt?: boolean;
}

/** A CLI session as `show users` lists it. */
export interface SessionInfo {
  readonly id: number;
  readonly source: SessionSource;
  readonly user: string;
  readonly location: string;
  readonly idleSince: number;
}

export class SessionRegistry<S> {
  private readonly sessions = new Map<number, { session: Session<S>; location: string }>();
  private nextId = 1;

  constructor(private readonly env: (id: number) => SessionEnvironment<S>) {}

  open(o: OpenSessionOptions): Session<S> {
    const id = this.nextId++;
    const session: Session<S> = new Session(this.env(id), {
      id,
      source: o.source,
      user: o.user,
      userPrivilege: o.userPrivilege,
      enabled: o.enabled,
      terminalLength: o.terminalLength,
      echoesPrompt: o.echoesPrompt,
      onClose: () => this.sessions.delete(id),
    });
    if (o.source !== 'file') this.sessions.set(id, { session, location: o.location });
    return session;
  }

  list(): SessionInfo[] {
    return [...this.sessions.values()].map(({ session, location }) => ({
      id: session.id,
      source: session.source,
      user: session.user,
      location,
      idleSince: session.lastActive,
    }));
  }

  /** Ends every session (reboot, shutdown). */
  closeAll(): void {
    for (const { session } of [...this.sessions.values()]) session.close();
  }
}
