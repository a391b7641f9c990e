/**
 * LDAP as a first factor (SPEC §14): the servers of a method list asked in order, each within its
 * `timeout`. A definite answer (accept, or reject: bad password, no such user, not in the group) ends
 * the login; a server that gives none (silent, refused, TLS failure, bind-dn refused) is skipped for the
 * next one, and when none is left the answer is 'timeout', which the caller turns into an
 * Access-Reject with reason first-factor-timeout: a login fails closed.
 */
import type { FirstFactorResult, FirstFactorSource } from '../auth/types.ts';
import type { Clock } from '../util/clock.ts';
import type { Log } from '../util/log.ts';
import { LdapSession } from './connection.ts';
import { DeadlineError, describeFailure, type ServerFailure } from './failure.ts';
import { searchThenBind, type ServerVerdict } from './search-then-bind.ts';
import { resolveServer, type LdapServerSettings } from './settings.ts';
import type { LdapStatistics } from './statistics.ts';

export interface LdapFirstFactorOptions {
  /** The servers to ask, in order, read at every login (so configuration changes apply to the next one). */
  readonly servers: () => readonly LdapServerSettings[];
  readonly statistics: LdapStatistics;
  readonly clock: Clock;
  /** The audit log: one event per decision, never a password (SPEC §11). */
  readonly log: Log;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class LdapFirstFactor implements FirstFactorSource {
  constructor(private readonly o: LdapFirstFactorOptions) {}

  /** An accept carries the `email-attribute` value when the entry has one (e-mail OTP, SPEC §14). */
  mayGiveEmail(): boolean {
    return true;
  }

  async check(user: string, password: Buffer): Promise<FirstFactorResult> {
    // RFC 4513 §5.1.2: a simple bind with a DN and an empty password is an unauthenticated bind, which
    // some servers answer with success. Refused here, before any server is asked.
    if (password.length === 0) return this.reject(user, 'empty-password');
    if (user === '') return this.reject(user, 'empty-user');
    // A simple bind carries the password as text; bytes that are not UTF-8 cannot be sent unchanged.
    let text: string;
    try {
      text = utf8.decode(password);
    } catch {
      return this.reject(user, 'password-not-utf8');
    }
    const servers = this.o.servers();
    for (const settings of servers) {
      const answer = await this.ask(settings, user, text);
      if (answer.kind === 'accept') {
        this.o.statistics.record(settings.name, 'accept');
        this.o.log.info('ldap-accept', { user, server: settings.name, dn: answer.dn });
        return answer.email ? { answer: 'accept', email: answer.email } : { answer: 'accept' };
      }
      if (answer.kind === 'reject') {
        this.o.statistics.record(settings.name, 'reject');
        return this.reject(user, answer.reason, settings.name, answer.dn);
      }
      const { failure } = answer;
      this.o.statistics.record(settings.name, failure.kind, { text: failure.text, at: this.o.clock.now() });
      this.o.log.error('ldap-error', { user, server: settings.name, cause: failure.kind, error: failure.text });
    }
    this.o.log.error('ldap-timeout', { user, servers: servers.map((s) => s.name) });
    return { answer: 'timeout' };
  }

  private reject(user: string, reason: string, server?: string, dn?: string): FirstFactorResult {
    this.o.log.info('ldap-reject', { user, reason, ...(server ? { server } : {}), ...(dn ? { dn } : {}) });
    return { answer: 'reject' };
  }

  /** One server, bounded by its timeout as a whole (connect, TLS, binds, searches). Never throws. */
  private async ask(settings: LdapServerSettings, user: string, password: string): Promise<ServerVerdict | { kind: 'failed'; failure: ServerFailure }> {
    let session: LdapSession | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const server = resolveServer(settings);
      session = new LdapSession(server);
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(server.timeoutMs)), server.timeoutMs);
      });
      // ldapts' own connect and operation timeouts cover most of it, but not a StartTLS handshake that
      // never finishes, nor the sum of several operations. When the deadline wins, the login still
      // running is closed below and its later failure lands on this race, never unhandled.
      return await Promise.race([searchThenBind(session, server, user, password), deadline]);
    } catch (e) {
      return { kind: 'failed', failure: describeFailure(e) };
    } finally {
      clearTimeout(timer);
      await session?.close();
    }
  }
}
