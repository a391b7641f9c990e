/**
 * The LDAP first factor against real OpenLDAP servers (Debian slapd, two instances on 127.0.0.1), plus
 * raw TCP peers for what slapd will not do: stay silent, drop the connection, stall in StartTLS.
 * Seed data: fixtures/slapd/seed.ldif.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FirstFactorResult } from '../../src/auth/types.ts';
import { LdapSession } from '../../src/ldap/connection.ts';
import { userFilter } from '../../src/ldap/filters.ts';
import { resolveServer, type LdapServerSettings } from '../../src/ldap/settings.ts';
import { LdapFirstFactor } from '../../src/ldap/source.ts';
import { LdapStatistics } from '../../src/ldap/statistics.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';
import { BASE_DN, READER_DN, READER_PASSWORD, startSlapd, type Slapd } from '../helpers/slapd.ts';

const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
const VPN = 'cn=vpn,ou=groups,dc=example,dc=test';
const VPN_UNIQUE = 'cn=vpn-unique,ou=groups,dc=example,dc=test';
/** Exists only as a memberOf value on dave's entry. */
const LEGACY = 'cn=legacy,ou=groups,dc=example,dc=test';
const ALICE_DN = 'uid=alice,ou=people,dc=example,dc=test';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

/** Every audit event of the file, to look for passwords at the end. */
const audit = memoryLog();
/** Every password any test sent or configured. */
const passwords = new Set<string>([READER_PASSWORD]);
const pw = (s: string) => (passwords.add(s), Buffer.from(s, 'utf8'));

let a: Slapd;
let b: Slapd;

/** A first factor over `servers`, with its own counters and log (events also go to `audit`). */
function ldap(servers: LdapServerSettings[] | (() => LdapServerSettings[])) {
  const log = memoryLog();
  const tee = {
    info: (e: string, f?: Record<string, unknown>) => (log.info(e, f), audit.info(e, f)),
    error: (e: string, f?: Record<string, unknown>) => (log.error(e, f), audit.error(e, f)),
  };
  const statistics = new LdapStatistics();
  const clock = new ManualClock(T0);
  const source = new LdapFirstFactor({ servers: typeof servers === 'function' ? servers : () => servers, statistics, clock, log: tee });
  return { source, statistics, clock, log, check: (user: string, password: string | Buffer) => source.check(user, typeof password === 'string' ? pw(password) : password) };
}

/** slapd `a` over plain LDAP, searching as the reader. */
function onA(name: string, more: Partial<LdapServerSettings> = {}): LdapServerSettings {
  return { name, host: '127.0.0.1', port: a.ldapPort, baseDn: BASE_DN, bindDn: READER_DN, bindPassword: READER_PASSWORD, timeoutSeconds: 2, ...more };
}
const onB = (name: string, more: Partial<LdapServerSettings> = {}) => onA(name, { port: b.ldapPort, ...more });

/** The fields of the last event named `event`. */
function last(log: ReturnType<typeof memoryLog>, event: string): Record<string, unknown> | undefined {
  return log.events.filter((e) => e.event === event).at(-1)?.fields;
}

const ACCEPT: FirstFactorResult = { answer: 'accept' };
const REJECT: FirstFactorResult = { answer: 'reject' };
const TIMEOUT: FirstFactorResult = { answer: 'timeout' };

/** A TCP peer on 127.0.0.1 that does what `behave` says with each connection; counts connections. */
async function tcpPeer(behave: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    behave(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * An LDAP server that answers the StartTLS extended request (RFC 4511 §4.14.2) with success and then
 * never starts the handshake. The request's messageID is echoed; one-byte IDs are all ldapts uses here.
 */
function stallInStartTls(socket: Socket): void {
  socket.once('data', (d: Buffer) => {
    const id = d[4]!; // 30 LL 02 01 ID …
    socket.write(Buffer.from([0x30, 0x0c, 0x02, 0x01, id, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]));
  });
}

/** TCP sockets still open in this process (client sockets that were not closed). */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TLSWrap').length;
}

// The bound on the whole file: a broken deadline must fail, not hang.
describe('LDAP first factor against slapd', { timeout: 120_000 }, () => {
  before(async () => {
    [a, b] = await Promise.all([startSlapd(), startSlapd()]);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  test('the right password is accepted and the mail attribute returned', async () => {
    const l = ldap([onA('a')]);
    assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
    assert.deepEqual(last(l.log, 'ldap-accept'), { user: 'alice', server: 'a', dn: ALICE_DN });
    assert.deepEqual(l.statistics.of('a'), { requests: 1, accepts: 1, rejects: 0, timeouts: 0, errors: 0, state: 'up' });
  });

  test('email-attribute names the attribute; an entry without it returns no address', async () => {
    const l = ldap([onA('a', { emailAttribute: 'cn' }), onA('b', { emailAttribute: 'telephoneNumber' })]);
    assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'Alice' });
    const noMail = ldap([onA('b', { emailAttribute: 'telephoneNumber' })]);
    assert.deepEqual(await noMail.check('alice', 'alicepw'), ACCEPT);
  });

  test('a wrong password, an unknown user and an ambiguous name are rejected', async () => {
    const l = ldap([onA('a')]);
    assert.deepEqual(await l.check('alice', 'wrong-password'), REJECT);
    assert.deepEqual(last(l.log, 'ldap-reject'), { user: 'alice', reason: 'bad-password', server: 'a', dn: ALICE_DN });
    assert.deepEqual(await l.check('mallory', 'alicepw'), REJECT);
    assert.equal(last(l.log, 'ldap-reject')?.reason, 'no-such-user');
    assert.deepEqual(await l.check('twin', 'twinpw'), REJECT);
    assert.equal(last(l.log, 'ldap-reject')?.reason, 'ambiguous-user');
    assert.deepEqual(l.statistics.of('a'), { requests: 3, accepts: 0, rejects: 3, timeouts: 0, errors: 0, state: 'up' });
  });

  test('filter injection: `*` and `alice)(uid=*` are names, not patterns', async () => {
    const l = ldap([onA('a')]);
    // As a pattern `*` would find every entry (ambiguous-user); as a value it finds none.
    for (const user of ['*', 'alice)(uid=*', 'alice*', '*)(|(uid=*']) {
      assert.deepEqual(await l.check(user, 'alicepw'), REJECT, user);
      assert.equal(last(l.log, 'ldap-reject')?.reason, 'no-such-user', user);
    }
  });

  test('an empty password is refused before any server is asked', async () => {
    const peer = await tcpPeer((s) => s.destroy());
    try {
      const l = ldap([{ name: 'peer', host: '127.0.0.1', port: peer.port, baseDn: BASE_DN }, onA('a')]);
      assert.deepEqual(await l.check('alice', Buffer.alloc(0)), REJECT);
      assert.deepEqual(last(l.log, 'ldap-reject'), { user: 'alice', reason: 'empty-password' });
      assert.equal(peer.connections, 0);
      assert.equal(l.statistics.of('peer').requests + l.statistics.of('a').requests, 0);
      // The peer is reachable: the same login with a password does reach it.
      await l.check('alice', 'alicepw');
      assert.equal(peer.connections, 1);
    } finally {
      await peer.close();
    }
  });

  test('passwords are UTF-8; bytes that are not are refused before any server is asked', async () => {
    const l = ldap([onA('a')]);
    assert.deepEqual(await l.check('erin', 'pässwörd'), { answer: 'accept', email: 'erin@example.test' });
    assert.deepEqual(await l.check('erin', Buffer.from('pässwörd', 'latin1')), REJECT);
    assert.equal(last(l.log, 'ldap-reject')?.reason, 'password-not-utf8');
    assert.equal(l.statistics.of('a').requests, 1);
  });

  test('require-group: member, uniqueMember and memberOf count; others are rejected', async () => {
    const vpn = ldap([onA('a', { requireGroup: VPN })]);
    assert.deepEqual(await vpn.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' }); // member
    assert.deepEqual(await vpn.check('dave', 'davepw'), { answer: 'accept', email: 'dave@example.test' }); // memberOf only
    assert.deepEqual(await vpn.check('carol', 'carolpw'), REJECT);
    assert.deepEqual(last(vpn.log, 'ldap-reject'), { user: 'carol', reason: 'not-in-group', server: 'a', dn: 'uid=carol,ou=people,dc=example,dc=test' });

    const unique = ldap([onA('a', { requireGroup: VPN_UNIQUE })]);
    assert.deepEqual(await unique.check('bob', 'bobpw'), { answer: 'accept', email: 'bob@example.test' }); // uniqueMember
    assert.deepEqual(await unique.check('alice', 'alicepw'), REJECT); // member of cn=vpn, not of this one
    assert.equal(last(unique.log, 'ldap-reject')?.reason, 'not-in-group');

    // The server compares DNs (distinguishedNameMatch): case and spaces do not matter.
    const spaced = ldap([onA('a', { requireGroup: 'CN=VPN, OU=Groups, DC=example, DC=test' })]);
    assert.deepEqual(await spaced.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
  });

  test('require-group: a check the server refuses does not stop the others', async () => {
    // cn=legacy has no entry: the member/uniqueMember search fails with noSuchObject, memberOf still
    // answers for dave. slapd does not know AD's in-chain rule: alice ends as not-in-group, not as an error.
    const l = ldap([onA('a', { requireGroup: LEGACY })]);
    assert.deepEqual(await l.check('dave', 'davepw'), { answer: 'accept', email: 'dave@example.test' });
    assert.deepEqual(await l.check('alice', 'alicepw'), REJECT);
    assert.equal(last(l.log, 'ldap-reject')?.reason, 'not-in-group');
    assert.equal(l.statistics.of('a').errors, 0);
  });

  test('require-group is checked before the password', async () => {
    const l = ldap([onA('a', { requireGroup: VPN })]);
    assert.deepEqual(await l.check('carol', 'wrong-password'), REJECT);
    assert.equal(last(l.log, 'ldap-reject')?.reason, 'not-in-group');
  });

  test('without a bind-dn the search is anonymous (RFC 4513 §5.1.1)', async () => {
    const l = ldap([onA('a', { bindDn: undefined, bindPassword: undefined, baseDn: 'ou=public,dc=example,dc=test' })]);
    assert.deepEqual(await l.check('frank', 'frankpw'), { answer: 'accept', email: 'frank@example.test' });
    // The ACL lets nobody but the reader see ou=people: anonymously alice is not there.
    assert.deepEqual(await l.check('alice', 'alicepw'), REJECT);
    assert.equal(last(l.log, 'ldap-reject')?.reason, 'no-such-user');
  });

  test('StartTLS and LDAPS with the right CA are accepted', async () => {
    const l = ldap([onA('a', { secure: 'starttls', caCertificate: a.ca })]);
    assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
    // By name: the certificate is checked against "localhost" (SNI servername), not an address.
    const byName = ldap([onA('a', { host: 'localhost', secure: 'starttls', caCertificate: a.ca })]);
    assert.deepEqual(await byName.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
    const ldaps = ldap([onA('a', { secure: 'ldaps', port: a.ldapsPort, caCertificate: a.ca })]);
    assert.deepEqual(await ldaps.check('bob', 'bobpw'), { answer: 'accept', email: 'bob@example.test' });
  });

  test('a certificate that does not verify makes the server unusable: skipped, then timeout', async () => {
    const cases: [string, Partial<LdapServerSettings>][] = [
      ['starttls-wrong-ca', { secure: 'starttls', caCertificate: a.wrongCa }],
      ['ldaps-wrong-ca', { secure: 'ldaps', port: a.ldapsPort, caCertificate: a.wrongCa }],
      ['ldaps-system-cas-only', { secure: 'ldaps', port: a.ldapsPort }],
    ];
    for (const [name, more] of cases) {
      const l = ldap([onA(name, more)]);
      l.clock.set(T0 + 60_000);
      assert.deepEqual(await l.check('alice', 'alicepw'), TIMEOUT, name);
      const c = l.statistics.of(name);
      assert.deepEqual([c.requests, c.errors, c.state, c.lastErrorAt], [1, 1, 'down', T0 + 60_000], name);
      assert.match(c.lastError ?? '', /certificate|UNABLE_TO_VERIFY/i, name);
      assert.equal(last(l.log, 'ldap-error')?.cause, 'error', name);
      assert.deepEqual(last(l.log, 'ldap-timeout'), { user: 'alice', servers: [name] });
    }
    // With a good server behind it, the login goes on there.
    const l = ldap([onA('bad', { secure: 'starttls', caCertificate: a.wrongCa }), onB('good', { secure: 'starttls', caCertificate: b.ca })]);
    assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
    assert.equal(last(l.log, 'ldap-accept')?.server, 'good');
  });

  test('a misconfigured server is skipped: no host, bind-dn refused', async () => {
    const l = ldap([{ name: 'empty' }, onA('reader-wrong', { bindPassword: 'not-the-reader-password' }), onB('b')]);
    assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
    assert.equal(l.statistics.of('empty').lastError, 'no host configured');
    assert.equal(l.statistics.of('reader-wrong').lastError, 'InvalidCredentialsError (49)');
    assert.equal(l.statistics.of('reader-wrong').errors, 1);
    assert.equal(last(l.log, 'ldap-accept')?.server, 'b');
  });

  test('a definite reject ends the login: the next server is not asked', async () => {
    const peer = await tcpPeer((s) => s.destroy());
    try {
      const l = ldap([onA('a'), { name: 'peer', host: '127.0.0.1', port: peer.port, baseDn: BASE_DN }]);
      for (const [user, password] of [['alice', 'wrong-password'], ['mallory', 'mallory-password'], ['twin', 'twinpw']]) assert.deepEqual(await l.check(user!, password!), REJECT);
      const group = ldap([onA('a', { requireGroup: VPN }), { name: 'peer', host: '127.0.0.1', port: peer.port, baseDn: BASE_DN }]);
      assert.deepEqual(await group.check('carol', 'carolpw'), REJECT);
      assert.equal(peer.connections, 0);
    } finally {
      await peer.close();
    }
  });

  test('a server stopped mid-test is skipped for the next; when none answers, timeout', async () => {
    const l = ldap([onA('a'), onB('b')]);
    try {
      assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
      assert.equal(last(l.log, 'ldap-accept')?.server, 'a');
      await a.stop();
      assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
      assert.equal(last(l.log, 'ldap-accept')?.server, 'b');
      assert.equal(last(l.log, 'ldap-error')?.cause, 'timeout');
      assert.match(l.statistics.of('a').lastError ?? '', /ECONNREFUSED/);
      assert.deepEqual([l.statistics.of('a').timeouts, l.statistics.of('a').state], [1, 'down']);
      await b.stop();
      assert.deepEqual(await l.check('alice', 'alicepw'), TIMEOUT);
      assert.deepEqual(last(l.log, 'ldap-timeout'), { user: 'alice', servers: ['a', 'b'] });
      await a.start();
      assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
      assert.equal(last(l.log, 'ldap-accept')?.server, 'a');
      assert.deepEqual(l.statistics.of('a'), { requests: 4, accepts: 2, rejects: 0, timeouts: 2, errors: 0, state: 'up', lastError: l.statistics.of('a').lastError, lastErrorAt: T0 });
    } finally {
      await Promise.all([a.start(), b.start()]);
    }
  });

  test('servers that accept TCP but never answer are skipped within their timeout', async () => {
    const silent = await tcpPeer(() => {});
    const staller = await tcpPeer(stallInStartTls);
    try {
      const cases: [string, Partial<LdapServerSettings>][] = [
        ['silent', { port: silent.port }],
        ['silent-ldaps', { port: silent.port, secure: 'ldaps', caCertificate: a.ca }],
        // ldapts has no timeout on the TLS handshake after StartTLS: only the overall bound ends it.
        ['stalled-starttls', { port: staller.port, secure: 'starttls', caCertificate: a.ca }],
      ];
      for (const [name, more] of cases) {
        const l = ldap([onA(name, { ...more, timeoutSeconds: 1 }), onB('b')]);
        const started = performance.now();
        assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' }, name);
        const ms = performance.now() - started;
        assert.ok(ms >= 900 && ms < 3000, `${name}: ${ms} ms`);
        assert.deepEqual([l.statistics.of(name).timeouts, last(l.log, 'ldap-accept')?.server], [1, 'b'], name);
      }
      assert.equal(staller.connections, 1);
    } finally {
      await Promise.all([silent.close(), staller.close()]);
    }
  });

  test('a connection dropped mid-operation is skipped, never an unhandled rejection', async () => {
    // The first drops at once; the second after the first request it reads.
    const dropper = await tcpPeer((s) => s.destroy());
    const reader = await tcpPeer((s) => s.once('data', () => s.destroy()));
    try {
      const l = ldap([onA('drop', { port: dropper.port }), onA('drop-later', { port: reader.port }), onB('b')]);
      assert.deepEqual(await l.check('alice', 'alicepw'), { answer: 'accept', email: 'alice@example.test' });
      assert.deepEqual([l.statistics.of('drop').timeouts, l.statistics.of('drop-later').timeouts], [1, 1]);
    } finally {
      await Promise.all([dropper.close(), reader.close()]);
    }
  });

  test('a dropped connection is not silently reopened (it would be anonymous)', async () => {
    for (const secure of ['none', 'starttls'] as const) {
      const server = resolveServer(onA('a', { secure, caCertificate: a.ca, baseDn: 'ou=public,dc=example,dc=test', timeoutSeconds: 1 }));
      const session = new LdapSession(server);
      try {
        await session.open();
        await session.bind(READER_DN, READER_PASSWORD);
        await a.stop();
        await a.start();
        const search = session.find(server.baseDn, { scope: 'sub', filter: userFilter('uid', 'frank'), attributes: ['1.1'], sizeLimit: 2 });
        // On a plain connection ldapts alone would reconnect here and anonymously find frank (ou=public is
        // open to anyone). After StartTLS it does not even notice the drop: the search runs into its timeout.
        await assert.rejects(search, secure === 'none' ? /connection lost/ : /timed out/, secure);
      } finally {
        await session.close();
        await a.start();
      }
    }
  });

  test('no server configured: timeout (the caller rejects, first-factor-timeout)', async () => {
    const l = ldap([]);
    assert.deepEqual(await l.check('alice', 'alicepw'), TIMEOUT);
    assert.deepEqual(last(l.log, 'ldap-timeout'), { user: 'alice', servers: [] });
  });

  test('settings are read at every login', async () => {
    let group: string | undefined;
    const l = ldap(() => [onA('a', { requireGroup: group })]);
    assert.deepEqual(await l.check('carol', 'carolpw'), { answer: 'accept', email: 'carol@example.test' });
    group = VPN;
    assert.deepEqual(await l.check('carol', 'carolpw'), REJECT);
  });

  test('many logins at once each get their own answer', async () => {
    const l = ldap([onA('a', { requireGroup: VPN })]);
    const logins: [string, string, FirstFactorResult][] = [
      ['alice', 'alicepw', { answer: 'accept', email: 'alice@example.test' }],
      ['bob', 'bobpw', { answer: 'accept', email: 'bob@example.test' }],
      ['carol', 'carolpw', REJECT],
      ['alice', 'wrong-password', REJECT],
    ];
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => l.check(logins[i % 4]![0], logins[i % 4]![1])));
    results.forEach((r, i) => assert.deepEqual(r, logins[i % 4]![2], String(i)));
    assert.deepEqual([l.statistics.of('a').accepts, l.statistics.of('a').rejects], [20, 20]);
  });

  test('no client socket is left open', async () => {
    // Closing is asynchronous by a tick or two; bounded wait.
    for (let i = 0; i < 50 && openSockets() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(openSockets(), 0, process.getActiveResourcesInfo().join(' '));
  });

  test('the audit log has every decision and no password', () => {
    const events = new Set(audit.events.map((e) => e.event));
    assert.deepEqual([...events].sort(), ['ldap-accept', 'ldap-error', 'ldap-reject', 'ldap-timeout']);
    const text = JSON.stringify(audit.events);
    for (const p of passwords) assert.ok(!text.includes(p), `password ${JSON.stringify(p)} in the log`);
    // The bind DN may appear; the reader's password may not (checked above). Every assert.ok here has a
    // message: without one, a failing assert.ok makes node re-parse tsx's one-line output, which can spin.
    assert.ok(passwords.size >= 10, `only ${passwords.size} passwords were tried`);
  });

  test('no unhandled rejection', () => {
    assert.deepEqual(unhandled, []);
  });
});
