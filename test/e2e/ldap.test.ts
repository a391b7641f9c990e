/**
 * LDAP as the first factor end to end (issue #13): radclient as the NAS of a `nas … 2fa` entry, the
 * appliance in this process, two real OpenLDAP servers (Debian slapd: `a` over StartTLS by name, `b`
 * over LDAPS by address, each with its own CA written to flash), and a real SMTP server (npm
 * smtp-server) for e-mail OTP with the address from the directory. Seed: fixtures/slapd/seed.ldif.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../../src/app.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { adminSession, newApp, runLines, T0 } from '../helpers/app.ts';
import { radclient } from '../helpers/radclient.ts';
import { BASE_DN, READER_DN, READER_PASSWORD, startSlapd, type Slapd } from '../helpers/slapd.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { startMailSink, type MailSink } from '../helpers/mail-sink.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const VPN = 'cn=vpn,ou=groups,dc=example,dc=test';
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** Every password the test sends or configures: none may appear in the audit log. */
const PASSWORDS = ['alicepw', 'carolpw', 'davepw', 'wrongpw', READER_PASSWORD];


// The bound on the whole file: a broken timeout must fail, not hang.
describe('LDAP first factor through RADIUS', { timeout: 180_000 }, () => {
  let a: Slapd;
  let b: Slapd;
  let env: Awaited<ReturnType<typeof newApp>>;
  let smtp: MailSink;
  let smtpPort: number;
  let radiusPort: number;

  before(async () => {
    [a, b] = await Promise.all([startSlapd(), startSlapd()]);
    smtp = await startMailSink();
    smtpPort = smtp.port;
    radiusPort = await freeUdpPort();
    env = await newApp({ files: { 'ca-a.pem': a.ca, 'ca-b.pem': b.ca, 'wrong-ca.pem': a.wrongCa } });
  });
  after(async () => {
    await env?.close();
    await Promise.all([a?.close(), b?.close()]);
    await smtp?.close();
  });

  test('logins, refusals, a wrong CA, a stopped server, e-mail OTP from the directory; counters and audit log', async () => {
    const app: App = env.app;
    const s = adminSession(app);
    const cfg = async (...lines: string[]) => {
      const out = await runLines(s, 'conf t', ...lines, 'end');
      assert.doesNotMatch(out, /^%/m, `configuration refused:\n${out}`);
    };
    const login = (user: string, password: string, extra: string[] = []) =>
      radclient([`User-Name = "${user}"`, `User-Password = "${password}"`, ...extra], { server: `127.0.0.1:${radiusPort}`, secret: 'nassecret', timeout: 6 });
    // Each login uses a fresh time step (single use): move the appliance clock one step and take its code.
    let step = 0;
    const next = () => {
      step++;
      app.clock.set(T0 + step * 30_000);
      return hotp(base32Decode(SECRET)!, timeStep(T0) + step);
    };
    const stats = (name: string) => app.ldap.statistics.of(name);
    /** The last audit event of a kind, as `show log` would print its fields. */
    const lastEvent = (event: string) => env.log.events.filter((e) => e.event === event).at(-1)?.fields;

    await cfg(
      'service 2fa',
      'radius-server local',
      `server auth-port ${radiusPort}`,
      'nas 127.0.0.1 key nassecret 2fa',
      'server enable',
      'exit',
      // a: StartTLS, the certificate checked against the name "localhost".
      'ldap-server a',
      'host localhost',
      `port ${a.ldapPort}`,
      'secure starttls',
      'ca-certificate flash:/ca-a.pem',
      `base-dn ${BASE_DN}`,
      `bind-dn ${READER_DN} password ${READER_PASSWORD}`,
      `require-group ${VPN}`,
      'timeout 2',
      // b: LDAPS, the certificate checked against the address 127.0.0.1.
      'ldap-server b',
      'host 127.0.0.1',
      `port ${b.ldapsPort}`,
      'secure ldaps',
      'ca-certificate flash:/ca-b.pem',
      `base-dn ${BASE_DN}`,
      `bind-dn ${READER_DN} password ${READER_PASSWORD}`,
      `require-group ${VPN}`,
      'timeout 2',
      'exit',
      'aaa authentication openvpn default group ldap 2fa',
    );
    // alice and carol have TOTP records; their passwords live only in the directory (no local users).
    await runLines(s, `2fa create user alice secret ${SECRET}`, `2fa create user carol secret ${SECRET}`);
    assert.equal(app.config.current.radius.local.users.size, 0);

    // SCRV1: the code first, then the directory (a, the first server) with alice's directory password.
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(next())}`)).kind, 'accept');
    assert.deepEqual(lastEvent('ldap-accept'), { user: 'alice', server: 'a', dn: 'uid=alice,ou=people,dc=example,dc=test' });
    assert.deepEqual(lastEvent('radius-auth'), { user: 'alice', client: '127.0.0.1', result: 'accept', reason: 'ok-totp' });

    // A bad code never reaches the directory (AW+ order: the second factor first).
    const asked = stats('a').requests;
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64('000000')}`)).kind, 'reject');
    assert.equal(lastEvent('radius-auth')?.['reason'], 'bad-code');
    assert.equal(stats('a').requests, asked, 'the directory was not asked');

    // A good code with a wrong password: the directory says no.
    assert.equal((await login('alice', `SCRV1:${b64('wrongpw')}:${b64(next())}`)).kind, 'reject');
    assert.deepEqual(lastEvent('ldap-reject'), { user: 'alice', reason: 'bad-password', server: 'a', dn: 'uid=alice,ou=people,dc=example,dc=test' });
    assert.equal(lastEvent('radius-auth')?.['reason'], 'first-factor-reject');

    // An empty password (SCRV1 carries one) is refused before any server is asked (RFC 4513 §5.1.2).
    const beforeEmpty = stats('a').requests;
    assert.equal((await login('alice', `SCRV1::${b64(next())}`)).kind, 'reject');
    assert.deepEqual(lastEvent('ldap-reject'), { user: 'alice', reason: 'empty-password' });
    assert.equal(stats('a').requests, beforeEmpty, 'no server was asked');

    // carol has a good code and the right password, but is outside require-group.
    assert.equal((await login('carol', `SCRV1:${b64('carolpw')}:${b64(next())}`)).kind, 'reject');
    assert.deepEqual(lastEvent('ldap-reject'), { user: 'carol', reason: 'not-in-group', server: 'a', dn: 'uid=carol,ou=people,dc=example,dc=test' });

    // Unknown users and filter injection (RFC 4515: the names are values, never filter text). With no
    // 2FA record they are unconfigured users: the first factor alone, which refuses them.
    for (const user of ['zed', '*', 'alice)(uid=*']) {
      const r = await login(user, 'alicepw');
      assert.equal(r.kind, 'reject', user);
      assert.deepEqual(lastEvent('ldap-reject'), { user, reason: 'no-such-user', server: 'a' }, user);
    }

    // 2fa-in-password: <password><code>; the password alone gets a challenge answered by the code.
    await cfg('aaa authentication openvpn default group ldap 2fa 2fa-in-password');
    assert.equal((await login('alice', `alicepw${next()}`)).kind, 'accept');
    assert.equal((await login('alice', `wrongpw${next()}`)).kind, 'reject');
    const challenge = await login('alice', 'alicepw');
    assert.equal(challenge.kind, 'challenge', challenge.out);
    assert.equal((await login('alice', next(), [`State = ${challenge.state}`])).kind, 'accept');

    // A wrong CA on a: its TLS fails (an error, counted), the next server answers.
    await cfg('ldap-server a', 'ca-certificate flash:/wrong-ca.pem');
    const bAccepts = stats('b').accepts;
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(next())}`)).kind, 'accept');
    assert.equal(stats('b').accepts, bAccepts + 1, 'b answered');
    assert.equal(stats('a').errors, 1);
    assert.match(stats('a').lastError ?? '', /certificate/i);
    assert.match(await runLines(s, 'show ldap server a'), /^ {2}State +: down \(no usable answer to the last login\)\n {2}Last error +: .*certificate.*\(.+ UTC, \d+ s ago\)$/m);
    // Both with a CA that signed nothing they show: no server answers, the login fails closed.
    await cfg('ldap-server b', 'ca-certificate flash:/wrong-ca.pem');
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(next())}`)).kind, 'reject');
    assert.equal(lastEvent('radius-auth')?.['reason'], 'first-factor-timeout');
    await cfg('ldap-server a', 'ca-certificate flash:/ca-a.pem', 'ldap-server b', 'ca-certificate flash:/ca-b.pem');

    // a hangs mid-test (frozen: connections are accepted, nothing answers): after its 2 s timeout the
    // next server answers.
    a.freeze();
    try {
      const frozen = stats('a').timeouts;
      assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(next())}`)).kind, 'accept');
      assert.equal(stats('a').timeouts, frozen + 1);
      assert.equal(stats('a').lastError, 'no answer within 2 s');
      assert.equal(lastEvent('ldap-accept')?.['server'], 'b');
    } finally {
      a.thaw();
    }
    // a stopped mid-test: no answer from a (refused: counted as a timeout), the next server answers.
    await a.stop();
    const aTimeouts = stats('a').timeouts;
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(next())}`)).kind, 'accept');
    assert.equal(stats('a').timeouts, aTimeouts + 1);
    assert.equal(lastEvent('ldap-accept')?.['server'], 'b');
    assert.deepEqual(lastEvent('ldap-error'), { user: 'alice', server: 'a', cause: 'timeout', error: stats('a').lastError });
    // Both stopped: fail closed, and the code is not spent (it works once a server is back).
    await b.stop();
    const held = next();
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(held)}`)).kind, 'reject');
    assert.equal(lastEvent('radius-auth')?.['reason'], 'first-factor-timeout');
    assert.deepEqual(lastEvent('ldap-timeout'), { user: 'alice', servers: ['a', 'b'] });
    await Promise.all([a.start(), b.start()]);
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(held)}`)).kind, 'accept');

    // A named group asks its members in its order: b first.
    await cfg('aaa group server ldap dirs', 'server b', 'server a', 'exit', 'aaa authentication openvpn default group dirs 2fa');
    const aBefore = stats('a').requests;
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(next())}`)).kind, 'accept');
    assert.equal(lastEvent('ldap-accept')?.['server'], 'b');
    assert.equal(stats('a').requests, aBefore, 'a was not needed');

    // E-mail OTP with the address from the directory: dave has no TOTP record and no registered address;
    // the first factor first (dave is in the group through memberOf), then the code by mail.
    const mailSetup = await runLines(s, 'conf t', 'mail from otp@example.test', `mail smtpserver 127.0.0.1 port ${smtpPort}`, '2fa email-otp', 'end');
    // A plain SMTP server on loopback: the manual's warning, and nothing refused.
    assert.match(mailSetup, /^% Email OTP has been enabled but the configuration is not secure\. Mail configuration is not using TLS\n$/m);
    assert.equal(mailSetup.match(/^%/gm)?.length, 1, mailSetup);
    next();
    assert.equal((await login('dave', 'wrongpw')).kind, 'reject');
    assert.equal(smtp.mails.length, 0, 'no mail without the first factor');
    const mailed = await login('dave', 'davepw');
    assert.equal(mailed.kind, 'challenge', mailed.out);
    assert.match(mailed.out, /Reply-Message = "Enter the verification code sent to your e-mail address"/);
    assert.equal(smtp.mails.length, 1);
    assert.equal(smtp.mails[0]!.to, 'dave@example.test');
    const code = /\b(\d{6})\b/.exec(smtp.mails[0]!.text)![1]!;
    assert.equal((await login('dave', code, [`State = ${mailed.state}`])).kind, 'accept');
    assert.equal(lastEvent('radius-auth')?.['reason'], 'ok-email');
    // An entry without the e-mail attribute: the rules for a user without an address (here: the first
    // factor alone; with reject-unconfigured-users, a reject).
    await cfg('ldap-server a', 'email-attribute pager', 'ldap-server b', 'email-attribute pager');
    next();
    assert.equal((await login('dave', 'davepw')).kind, 'accept');
    assert.equal(lastEvent('radius-auth')?.['reason'], 'unconfigured-user');
    await cfg('2fa reject-unconfigured-users');
    assert.equal((await login('dave', 'davepw')).kind, 'reject');
    assert.equal(lastEvent('radius-auth')?.['reason'], 'unconfigured-user');
    assert.equal(smtp.mails.length, 1);

    // show ldap server: the counters of what happened above, per server.
    const shown = await runLines(s, 'show ldap server');
    for (const name of ['a', 'b']) {
      const c = stats(name);
      assert.equal(c.requests, c.accepts + c.rejects + c.timeouts + c.errors, name);
      const block = shown.split(/\n\n/).find((x) => x.startsWith(`LDAP server ${name}\n`)) ?? '';
      assert.match(block, new RegExp(`Requests +: ${c.requests}\\n {2}Accepts +: ${c.accepts}\\n {2}Rejects +: ${c.rejects}\\n {2}Timeouts +: ${c.timeouts}\\n {2}Errors +: ${c.errors}`), block);
      assert.match(block, /State +: up \(answered the last login\)/, block);
    }
    // The exact figures. a: accepts = SCRV1, 2fa-in-password, the challenge answer, the held code after
    // the restart; rejects = wrong password ×2, carol, zed, `*`, `alice)(uid=*`; errors = the wrong CA
    // twice; timeouts = frozen once, stopped twice. b: accepts = after a's CA error, freeze and stop,
    // the group with b first, dave ×3; rejects = dave's wrong password; one error (wrong CA), one
    // timeout (stopped).
    const figures = (name: string) => {
      const { lastError: _e, lastErrorAt: _t, ...rest } = stats(name);
      return rest;
    };
    assert.deepEqual(figures('a'), { requests: 15, accepts: 4, rejects: 6, timeouts: 3, errors: 2, state: 'up' });
    assert.deepEqual(figures('b'), { requests: 10, accepts: 7, rejects: 1, timeouts: 1, errors: 1, state: 'up' });

    // The audit log has every decision with its reason and never a password or the bind password.
    const log = await runLines(s, 'show log | include radius-auth|ldap-');
    for (const reason of ['ok-totp', 'bad-code', 'first-factor-reject', 'first-factor-timeout', 'ok-email', 'unconfigured-user']) {
      assert.match(log, new RegExp(`result=\\w+ reason=${reason}\\b`), reason);
    }
    for (const reason of ['bad-password', 'empty-password', 'not-in-group', 'no-such-user']) assert.match(log, new RegExp(`ldap-reject .*reason=${reason}\\b`), reason);
    const everything = JSON.stringify(env.log.events);
    for (const p of PASSWORDS) assert.ok(!everything.includes(p), `the audit log holds no password (${p})`);
    assert.ok(!everything.includes(code), 'nor the mailed code');
  });
});
