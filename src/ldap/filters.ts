/**
 * Search filters, built from ldapts filter objects and sent as BER (RFC 4511 §4.5.1.7), never put
 * together as strings: a user name like `*` or `alice)(uid=*` stays one literal value (as text it would
 * print as `(uid=\2a)`, `(uid=alice\29\28uid=\2a)`, the RFC 4515 §3 escapes).
 */
import { EqualityFilter, ExtensibleFilter, OrFilter, type Filter } from 'ldapts';

/** Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: membership through nested groups (MS-ADTS §3.1.1.3.4.4). */
export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';

/** The entry whose login attribute equals the user name. */
export function userFilter(loginAttribute: string, user: string): Filter {
  return new EqualityFilter({ attribute: loginAttribute, value: user });
}

/** On a group entry: it lists the user (groupOfNames `member`, groupOfUniqueNames `uniqueMember`). */
export function listsMemberFilter(userDn: string): Filter {
  return new OrFilter({
    filters: [new EqualityFilter({ attribute: 'member', value: userDn }), new EqualityFilter({ attribute: 'uniqueMember', value: userDn })],
  });
}

/** On a user entry: the directory says the user is in the group (`memberOf`: AD, OpenLDAP's memberof overlay). */
export function memberOfFilter(groupDn: string): Filter {
  return new EqualityFilter({ attribute: 'memberOf', value: groupDn });
}

/** On a user entry: in the group directly or through nested groups, `(memberOf:1.2.840.113556.1.4.1941:=DN)` (AD only). */
export function nestedMemberOfFilter(groupDn: string): Filter {
  return new ExtensibleFilter({ matchType: 'memberOf', rule: IN_CHAIN_RULE, value: groupDn });
}
