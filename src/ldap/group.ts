/**
 * `require-group DN`: is the user in the group? The server does the DN matching (distinguishedNameMatch
 * ignores case and spacing that a string compare would not), through base-scoped searches.
 */
import { ResultCodeError } from 'ldapts';
import type { LdapSession } from './connection.ts';
import { listsMemberFilter, memberOfFilter, nestedMemberOfFilter } from './filters.ts';

/**
 * Tries, in order, until one says yes: the group entry lists the user (member/uniqueMember); the user
 * entry has memberOf = the group; the AD nested-group rule on the user entry. A check the server
 * answers with an LDAP error (no such group entry, a matching rule it does not know, no access) counts
 * as "no" and the next one still runs; a lost connection or a timeout is thrown (the server is unusable).
 */
export async function isMember(session: LdapSession, userDn: string, groupDn: string): Promise<boolean> {
  const checks = [
    () => session.find(groupDn, { scope: 'base', filter: listsMemberFilter(userDn), attributes: ['1.1'], sizeLimit: 1 }),
    () => session.find(userDn, { scope: 'base', filter: memberOfFilter(groupDn), attributes: ['1.1'], sizeLimit: 1 }),
    () => session.find(userDn, { scope: 'base', filter: nestedMemberOfFilter(groupDn), attributes: ['1.1'], sizeLimit: 1 }),
  ];
  for (const check of checks) {
    try {
      if ((await check()).length > 0) return true;
    } catch (e) {
      if (!(e instanceof ResultCodeError)) throw e;
    }
  }
  return false;
}
