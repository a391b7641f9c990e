/**
 * The LDAP first factor's pure parts: settings defaults, URLs, server selection, filters as sent,
 * failure classification, counters. The whole login against a real slapd is in slapd.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidCredentialsError, UnavailableError } from 'ldapts';
import { DeadlineError, describeFailure } from '../../src/ldap/failure.ts';
import { listsMemberFilter, nestedMemberOfFilter, userFilter } from '../../src/ldap/filters.ts';
import { resolveServer, selectServers, serverUrl } from '../../src/ldap/settings.ts';
import { LdapStatistics } from '../../src/ldap/statistics.ts';

test('defaults follow SPEC §14: port 389, 636 with ldaps, uid, mail, 5 s', () => {
  const plain = resolveServer({ name: 'a', host: 'dc1.example.test', baseDn: 'dc=example,dc=test' });
  assert.deepEqual(
    { port: plain.port, secure: plain.secure, login: plain.loginAttribute, email: plain.emailAttribute, timeoutMs: plain.timeoutMs },
    { port: 389, secure: 'none', login: 'uid', email: 'mail', timeoutMs: 5000 },
  );
  assert.equal(resolveServer({ name: 'a', host: 'h', baseDn: 'dc=x', secure: 'ldaps' }).port, 636);
  assert.equal(resolveServer({ name: 'a', host: 'h', baseDn: 'dc=x', secure: 'starttls' }).port, 389);
  assert.equal(resolveServer({ name: 'a', host: 'h', baseDn: 'dc=x', secure: 'ldaps', port: 3269 }).port, 3269);
});

test('a server missing its host, base-dn or bind password is not usable', () => {
  assert.throws(() => resolveServer({ name: 'a', baseDn: 'dc=x' }), /no host/);
  assert.throws(() => resolveServer({ name: 'a', host: 'h' }), /no base-dn/);
  // RFC 4513 §5.1.2: a DN with an empty password would be an unauthenticated bind.
  assert.throws(() => resolveServer({ name: 'a', host: 'h', baseDn: 'dc=x', bindDn: 'cn=r', bindPassword: '' }), /no password/);
});

test('URLs: scheme by secure, IPv6 in brackets', () => {
  const url = (host: string, secure?: 'ldaps' | 'starttls') => serverUrl(resolveServer({ name: 'a', host, baseDn: 'dc=x', secure }));
  assert.equal(url('192.0.2.1'), 'ldap://192.0.2.1:389');
  assert.equal(url('2001:db8::1', 'ldaps'), 'ldaps://[2001:db8::1]:636');
  assert.equal(url('dc1.example.test', 'starttls'), 'ldap://dc1.example.test:389');
});

test('group ldap is every server in order; a named group its own order, unknown names skipped', () => {
  const all = ['a', 'b', 'c'].map((name) => ({ name }));
  assert.deepEqual(selectServers(all).map((s) => s.name), ['a', 'b', 'c']);
  assert.deepEqual(selectServers(all, ['c', 'x', 'a']).map((s) => s.name), ['c', 'a']);
});

test('filters carry the user name as one value (RFC 4515 §3 escapes when printed)', () => {
  assert.equal(userFilter('uid', '*').toString(), '(uid=\\2a)');
  assert.equal(userFilter('uid', 'alice)(uid=*').toString(), '(uid=alice\\29\\28uid=\\2a)');
  assert.equal(userFilter('sAMAccountName', 'a\\b\0').toString(), '(sAMAccountName=a\\5cb\\00)');
  assert.equal(listsMemberFilter('uid=a,dc=x').toString(), '(|(member=uid=a,dc=x)(uniqueMember=uid=a,dc=x))');
  assert.equal(nestedMemberOfFilter('cn=vpn,dc=x').toString(), '(memberOf:1.2.840.113556.1.4.1941:=cn=vpn,dc=x)');
});

test('failures: no answer counts as a timeout, an unusable answer as an error', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  assert.deepEqual(describeFailure(refused), { kind: 'timeout', text: 'connect ECONNREFUSED 127.0.0.1:1' });
  assert.equal(describeFailure(new DeadlineError(2000)).text, 'no answer within 2 s');
  assert.equal(describeFailure(new Error('BindRequest: Operation timed out')).kind, 'timeout');
  assert.equal(describeFailure(new UnavailableError('shutting down')).kind, 'timeout');
  const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  assert.deepEqual(describeFailure(tls), { kind: 'error', text: 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate' });
  assert.deepEqual(describeFailure(new InvalidCredentialsError('')), { kind: 'error', text: 'InvalidCredentialsError (49)' });
});

test('counters: one request per attempt, last error kept, state follows the last attempt', () => {
  const s = new LdapStatistics();
  assert.deepEqual(s.of('a'), { requests: 0, accepts: 0, rejects: 0, timeouts: 0, errors: 0, state: 'unknown' });
  s.record('a', 'timeout', { text: 'no answer within 5 s', at: 1000 });
  s.record('a', 'accept');
  s.record('a', 'reject');
  assert.deepEqual(s.of('a'), { requests: 3, accepts: 1, rejects: 1, timeouts: 1, errors: 0, state: 'up', lastError: 'no answer within 5 s', lastErrorAt: 1000 });
  assert.throws(() => ((s.of('a') as { requests: number }).requests = 9), TypeError);
  s.forget('a');
  assert.equal(s.of('a').requests, 0);
});
