/**
 * The login against one server (SPEC §14): bind as bind-dn (or stay anonymous), find exactly one entry
 * by the login attribute, check require-group, then bind as that entry with the user's password.
 */
import { ResultCodeError, type Entry } from 'ldapts';
import type { LdapSession } from './connection.ts';
import { userFilter } from './filters.ts';
import { isMember } from './group.ts';
import type { ResolvedLdapServer } from './settings.ts';

/** Why a server turned a login down. */
export type LdapRejectReason = 'no-such-user' | 'ambiguous-user' | 'not-in-group' | 'bad-password' | 'bind-refused';

/** A server's definite answer. Anything else (no answer, TLS, bind-dn refused, …) is thrown. */
export type ServerVerdict =
  | { readonly kind: 'accept'; readonly dn: string; readonly email?: string }
  | { readonly kind: 'reject'; readonly reason: LdapRejectReason; readonly dn?: string };

/** RFC 4511 §4.2.2 / Appendix A result codes of a user bind that mean "not this user, not now". */
const INVALID_CREDENTIALS = 49;
const REFUSED = new Set([
  48, // inappropriateAuthentication
  INVALID_CREDENTIALS, // also AD's locked, disabled and expired accounts (sub-codes in the diagnostic message)
  50, // insufficientAccessRights (OpenLDAP ppolicy lockout)
  53, // unwillingToPerform (disabled accounts on several servers)
]);

/** `password` is not empty (the caller refuses that before any server is asked). */
export async function searchThenBind(session: LdapSession, server: ResolvedLdapServer, user: string, password: string): Promise<ServerVerdict> {
  await session.open();
  // Without a bind-dn the search runs anonymously (RFC 4513 §5.1.1): no bind at all, never a bind with
  // a DN and an empty password (§5.1.2).
  if (server.bindDn) await session.bind(server.bindDn, server.bindPassword ?? '');
  // Two are enough to tell "exactly one" from "several"; a server stopping at the limit still returns them.
  const found = await session.find(server.baseDn, { scope: 'sub', filter: userFilter(server.loginAttribute, user), attributes: [server.emailAttribute], sizeLimit: 2 });
  if (found.length === 0) return { kind: 'reject', reason: 'no-such-user' };
  if (found.length > 1) return { kind: 'reject', reason: 'ambiguous-user' };
  const entry = found[0]!;
  // Checked before the password: someone outside the group does not get to try passwords against the
  // directory at all (and does not count towards its lockout).
  if (server.requireGroup && !(await isMember(session, entry.dn, server.requireGroup))) return { kind: 'reject', reason: 'not-in-group', dn: entry.dn };
  try {
    await session.bind(entry.dn, password);
  } catch (e) {
    if (e instanceof ResultCodeError && REFUSED.has(e.code)) return { kind: 'reject', reason: e.code === INVALID_CREDENTIALS ? 'bad-password' : 'bind-refused', dn: entry.dn };
    throw e;
  }
  const email = firstText(entry, server.emailAttribute);
  return { kind: 'accept', dn: entry.dn, ...(email ? { email } : {}) };
}

/** The first value of an attribute; servers may spell its name in another case than asked (RFC 4512 §2.5). */
function firstText(entry: Entry, attribute: string): string | undefined {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase() && k !== 'dn');
  const value = key === undefined ? undefined : entry[key];
  const first = Array.isArray(value) ? value[0] : value;
  const text = Buffer.isBuffer(first) ? first.toString('utf8') : first;
  return text || undefined;
}
