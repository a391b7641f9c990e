/**
 * What went wrong with a server that gave no definite answer, in words for `show ldap server` and the
 * audit log. Either way the next server is asked; the kind only decides which counter moves.
 */
import { ResultCodeError } from 'ldapts';

export interface ServerFailure {
  /** `timeout`: no answer (refused, unreachable, silent, dropped, busy); `error`: an answer we cannot use (TLS, bind-dn, base-dn). */
  readonly kind: 'timeout' | 'error';
  readonly text: string;
}

/** The whole login on one server took longer than its `timeout`. */
export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms / 1000} s`);
    this.name = 'DeadlineError';
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
// ldapts reports its own timeouts and dropped connections only in the message text.
const LDAPTS_NO_ANSWER = /^(Connection timeout|.*Operation timed out|Connection closed before message response|Socket error|LDAP connection lost)/;
// RFC 4511 Appendix A: the server is there but will not work for us now.
const BUSY = new Set([
  3, // timeLimitExceeded
  51, // busy
  52, // unavailable
]);

export function describeFailure(e: unknown): ServerFailure {
  if (e instanceof DeadlineError) return { kind: 'timeout', text: e.message };
  if (e instanceof ResultCodeError) return { kind: BUSY.has(e.code) ? 'timeout' : 'error', text: `${e.name} (${e.code})${detail(e.message)}` };
  if (!(e instanceof Error)) return { kind: 'error', text: String(e) };
  const code = (e as NodeJS.ErrnoException).code;
  const text = oneLine(code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message);
  return { kind: (code && UNREACHABLE.has(code)) || LDAPTS_NO_ANSWER.test(e.message) ? 'timeout' : 'error', text };
}

/** ldapts appends " Code: 0x31" to the server's diagnostic message; keep only the diagnostic. */
function detail(message: string): string {
  const m = oneLine(message.replace(/\s*Code: 0x[0-9a-f]+$/, ''));
  return m ? `: ${m}` : '';
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, '; ').trim();
