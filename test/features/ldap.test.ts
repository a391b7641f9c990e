/**
 * The LDAP commands (SPEC §14) in the running config: `ldap-server NAME` and its mode with every command
 * and its `no` form, the bind password sealed under `service password-encryption`, DNs checked, the CA
 * certificate read and checked when configured, `aaa group server ldap`, `group ldap|NAME` for
 * `aaa authentication openvpn` (a NAME is a RADIUS or an LDAP group, never both), `show ldap server`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { radiusSettings } from '../../src/features/radius-local/settings.ts';
import { openvpnLdapServers } from '../../src/features/ldap/settings.ts';
import { certificateAuthority } from '../../src/util/x509.ts';
import { adminSession, newApp, runLines, T0 } from '../helpers/app.ts';

const AD_GROUP = 'CN=VPN Users,OU=Groups,DC=corp,DC=example,DC=com';
const READER = 'CN=VPN Reader,OU=Service Accounts,DC=corp,DC=example,DC=com';

test('ldap-server: every setting, its no form, defaults omitted, DNs with spaces in quotes', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'ldap-server corp');
    assert.equal(s.prompt(), 'awplus(config-ldapserver)#');
    const out = await runLines(
      s,
      'host 192.0.2.10',
      'port 3269',
      'secure ldaps',
      'base-dn "DC=corp,DC=example,DC=com"',
      `bind-dn "${READER}" password R3ader!pw`,
      'login-attribute sAMAccountName',
      'email-attribute userPrincipalName',
      `require-group "${AD_GROUP}"`,
      'timeout 3',
    );
    assert.equal(out, '', 'no output on success');
    const rendered = env.app.renderRunning('ldap');
    assert.match(
      rendered,
      new RegExp(
        [
          '^ldap-server corp',
          ' host 192\\.0\\.2\\.10',
          ' port 3269',
          ' secure ldaps',
          ' base-dn DC=corp,DC=example,DC=com',
          ` bind-dn "${READER}" password 8 \\S+`,
          ' login-attribute sAMAccountName',
          ' email-attribute userPrincipalName',
          ` require-group "${AD_GROUP}"`,
          ' timeout 3',
          '!$',
        ].join('\n'),
        'm',
      ),
    );
    assert.ok(!rendered.includes('R3ader!pw'), 'the bind password is sealed');
    // The engine gets the settings as typed, the password in clear.
    await runLines(s, 'exit', 'aaa authentication openvpn default group ldap 2fa');
    assert.deepEqual(openvpnLdapServers(env.app.config.current), [
      {
        name: 'corp',
        host: '192.0.2.10',
        port: 3269,
        secure: 'ldaps',
        caCertificate: undefined,
        baseDn: 'DC=corp,DC=example,DC=com',
        bindDn: READER,
        bindPassword: 'R3ader!pw',
        loginAttribute: 'sAMAccountName',
        emailAttribute: 'userPrincipalName',
        requireGroup: AD_GROUP,
        timeoutSeconds: 3,
      },
    ]);
    // The defaults typed out are not settings (attribute names in any case, RFC 4512 §2.5).
    await runLines(s, 'ldap-server corp', 'timeout 5', 'login-attribute UID', 'email-attribute mail');
    assert.doesNotMatch(env.app.renderRunning('ldap'), /timeout|login-attribute|email-attribute/);
    // Every no form.
    await runLines(s, 'no host', 'no port', 'no secure', 'no base-dn', 'no bind-dn', 'no require-group', 'no timeout', 'no login-attribute', 'no email-attribute');
    assert.equal(env.app.renderRunning('ldap'), '!\nldap-server corp\n!\nend\n');
    assert.equal(s.prompt(), 'awplus(config-ldapserver)#');
    // A config line walks up out of the mode.
    await runLines(s, 'hostname gw');
    assert.equal(s.prompt(), 'gw(config)#');
    await runLines(s, 'no ldap-server corp');
    assert.equal(env.app.renderRunning('ldap'), '!\nend\n');
    assert.equal(await runLines(s, 'no ldap-server corp'), '% LDAP server corp does not exist\n');
  } finally {
    await env.close();
  }
});

test('bind-dn: the password is sealed, survives a reboot, is shown in quotes in clear, and must not be empty', async () => {
  const a = await newApp();
  const b = await newApp();
  try {
    const s = adminSession(a.app);
    await runLines(s, 'conf t', 'ldap-server dir', 'host ldap.example.test', 'base-dn dc=example,dc=test', 'bind-dn cn=reader,dc=example,dc=test password "two words"', 'end', 'write memory');
    const sealed = /bind-dn cn=reader,dc=example,dc=test password 8 (\S+)\n/.exec(a.app.renderRunning('ldap'));
    assert.ok(sealed, a.app.renderRunning('ldap'));
    const before = a.app.renderRunning();
    await a.app.reboot();
    assert.equal(a.app.renderRunning(), before, 'render → boot → render');
    assert.equal(a.app.config.current.ldap.servers.get('dir')?.bindDn?.password, 'two words');
    const elsewhere = await runLines(adminSession(b.app), 'conf t', 'ldap-server dir', `bind-dn cn=reader,dc=example,dc=test password 8 ${sealed[1]}`);
    assert.match(elsewhere, /\n% Cannot decrypt the password: it was encrypted on another appliance; enter it again\n$/);
    const s2 = adminSession(a.app);
    await runLines(s2, 'conf t', 'no service password-encryption');
    assert.match(a.app.renderRunning('ldap'), /^ bind-dn cn=reader,dc=example,dc=test password "two words"$/m);
    // The clear form boots back to the same password.
    await runLines(s2, 'end', 'write memory');
    await a.app.reboot();
    assert.equal(a.app.config.current.ldap.servers.get('dir')?.bindDn?.password, 'two words');
    const empty = await runLines(adminSession(a.app), 'conf t', 'ldap-server dir', 'bind-dn cn=reader,dc=example,dc=test password ""');
    assert.match(empty, /\n% The password must not be empty\n$/);
  } finally {
    await a.close();
    await b.close();
  }
});

test('DNs and attribute names are checked when typed', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'ldap-server dir');
    for (const bad of ['example.test', 'dc=example,', 'dc=example;dc=test', '"cn=a=b,dc=x"', 'cn=a\\zz', 'cn=#zz', '"1bad=x"']) {
      const shown = bad.replace(/^"|"$/g, '');
      assert.equal(await runLines(s, `base-dn ${bad}`), `% Invalid distinguished name: ${shown}\n`, bad);
    }
    assert.equal(await runLines(s, 'require-group cn=a\\22b,dc=x'), '', 'a quotation mark written as \\22');
    assert.equal(await runLines(s, 'require-group cn=a\\"b,dc=x'), '% Invalid distinguished name: cn=a\\"b,dc=x\n', 'a quotation mark cannot be shown back in quotes');
    for (const good of ['"dc=example, dc=test"', 'uid=al\\2Cice,ou=people,dc=x', '2.5.4.3=vpn+ou=x,dc=y', 'cn=#04024869']) {
      assert.equal(await runLines(s, `base-dn ${good}`), '', good);
    }
    assert.match(await runLines(s, 'login-attribute sam_account'), /% Invalid input detected at '\^' marker\.\n$/);
    assert.equal(await runLines(s, 'login-attribute 0.9.2342.19200300.100.1.1'), '');
  } finally {
    await env.close();
  }
});

test('ca-certificate: read from flash and checked when configured; only the certificates are kept', async () => {
  const ca = await certificateAuthority({ commonName: 'Corp Root CA', now: T0, days: 2 });
  const env = await newApp({ files: { 'corp-ca.pem': `${ca.cert}${ca.key}`, 'junk.pem': 'hello\n', 'broken.pem': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } });
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'ldap-server dir');
    assert.equal(await runLines(s, 'ca-certificate flash:/nothere.pem'), '% Certificate file flash:/nothere.pem does not exist\n');
    assert.equal(await runLines(s, 'ca-certificate flash:/junk.pem'), '% flash:/junk.pem is not a PEM certificate: no BEGIN CERTIFICATE block\n');
    assert.match(await runLines(s, 'ca-certificate flash:/broken.pem'), /^% flash:\/broken\.pem is not a PEM certificate: .+\n$/);
    assert.equal(env.app.config.current.ldap.servers.get('dir')?.caCertificate, undefined, 'nothing half-applied');
    assert.equal(await runLines(s, 'ca-certificate corp-ca.pem'), '');
    const kept = env.app.config.current.ldap.servers.get('dir')?.caCertificate;
    assert.equal(kept?.file, 'corp-ca.pem');
    assert.equal(kept?.pem.trim(), ca.cert.trim(), 'the private key pasted into the file is not kept');
    assert.match(env.app.renderRunning('ldap'), /^ ca-certificate flash:\/corp-ca\.pem$/m);
    assert.match(await runLines(s, 'do show ldap server dir'), /^ {2}CA certificate +: flash:\/corp-ca\.pem$/m);
    await runLines(s, 'no ca-certificate');
    assert.doesNotMatch(env.app.renderRunning('ldap'), /ca-certificate/);
  } finally {
    await env.close();
  }
});

test('server groups: LDAP and RADIUS group names are one namespace; members in order; a group in use stays', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'aaa group server radius corp', 'exit');
    assert.equal(await runLines(s, 'aaa group server ldap corp'), '% corp is already a RADIUS server group; server group names are shared\n');
    assert.equal(s.prompt(), 'awplus(config)#');
    await runLines(s, 'aaa group server ldap dirs');
    assert.equal(s.prompt(), 'awplus(config-ldap-sg)#');
    assert.equal(await runLines(s, 'server b', 'server a', 'server b'), '', 'a member given twice is kept once');
    assert.equal(await runLines(s, 'no server c'), '% LDAP server c is not in this group\n');
    await runLines(s, 'exit');
    assert.equal(await runLines(s, 'aaa group server radius dirs'), '% dirs is already an LDAP server group; server group names are shared\n');
    assert.equal(env.app.renderRunning('ldap'), '!\naaa group server ldap dirs\n server b\n server a\n!\nend\n');

    // group NAME: which kind it names decides the first factor.
    await runLines(s, 'aaa authentication openvpn default group dirs 2fa');
    assert.equal(radiusSettings(env.app.config.current).firstFactor.kind, 'ldap');
    await runLines(s, 'aaa authentication openvpn default group corp 2fa');
    assert.equal(radiusSettings(env.app.config.current).firstFactor.kind, 'radius');
    await runLines(s, 'aaa authentication openvpn default group ldap 2fa 2fa-in-password');
    assert.equal(radiusSettings(env.app.config.current).firstFactor.kind, 'ldap');
    assert.match(env.app.renderRunning('aaa'), /^aaa authentication openvpn default group ldap 2fa 2fa-in-password$/m);
    assert.equal(await runLines(s, 'aaa authentication openvpn default group nothere'), '% No RADIUS or LDAP server group is named nothere\n');
    await runLines(s, 'aaa authentication openvpn default group dirs');
    assert.equal(await runLines(s, 'no aaa group server ldap dirs'), '% LDAP server group dirs is used by aaa authentication openvpn; change that first\n');
    await runLines(s, 'no aaa authentication openvpn default');
    assert.equal(radiusSettings(env.app.config.current).firstFactor.kind, 'local');
    assert.equal(await runLines(s, 'no aaa group server ldap dirs'), '');
    assert.equal(await runLines(s, 'no aaa group server ldap dirs'), '% LDAP server group dirs does not exist\n');
  } finally {
    await env.close();
  }
});

test('group ldap asks every server in order; a group asks its members in its order, skipping missing ones', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'ldap-server one', 'host 192.0.2.1', 'ldap-server two', 'host 192.0.2.2', 'ldap-server three', 'host 192.0.2.3', 'exit');
    await runLines(s, 'aaa group server ldap backwards', 'server three', 'server gone', 'server one', 'exit');
    const names = () => openvpnLdapServers(env.app.config.current).map((x) => x.name);
    assert.deepEqual(names(), [], 'no method list: no directory');
    await runLines(s, 'aaa authentication openvpn default group ldap');
    assert.deepEqual(names(), ['one', 'two', 'three']);
    await runLines(s, 'aaa authentication openvpn default group backwards');
    assert.deepEqual(names(), ['three', 'one']);
    await runLines(s, 'no ldap-server three');
    assert.deepEqual(names(), ['one']);
  } finally {
    await env.close();
  }
});

test('show ldap server: settings, state and counters; a server that cannot be used says why', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'ldap-server half', 'host 192.0.2.1', 'ldap-server full', 'host ldap.example.test', 'secure starttls', 'base-dn dc=example,dc=test', 'end');
    env.app.ldap.statistics.record('full', 'accept');
    env.app.ldap.statistics.record('full', 'timeout', { text: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:389', at: T0 - 90_000 });
    const all = await runLines(s, 'show ldap server');
    assert.match(all, /^LDAP server half\n {2}URL +: -\n/m);
    assert.match(all, /^ {2}State +: not usable \(no base-dn configured\)$/m);
    const full = await runLines(s, 'show ldap server full');
    assert.doesNotMatch(full, /half/);
    assert.match(full, /^ {2}URL +: ldap:\/\/ldap\.example\.test:389$/m);
    assert.match(full, /^ {2}Secure +: starttls$/m);
    assert.match(full, /^ {2}Bind DN +: anonymous search$/m);
    assert.match(full, /^ {2}State +: down \(no usable answer to the last login\)$/m);
    assert.match(full, /^ {2}Last error +: ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:389 \(.+ UTC, 90 s ago\)$/m);
    assert.match(full, /^ {2}Requests +: 2\n {2}Accepts +: 1\n {2}Rejects +: 0\n {2}Timeouts +: 1\n {2}Errors +: 0$/m);
    assert.equal(await runLines(s, 'show ldap server nothere'), '% LDAP server nothere does not exist\n');
    // Removing a server forgets its figures.
    await runLines(s, 'conf t', 'no ldap-server full', 'ldap-server full', 'end');
    assert.match(await runLines(s, 'show ldap server full'), /^ {2}Requests +: 0$/m);
    await runLines(s, 'conf t', 'no ldap-server full', 'no ldap-server half', 'end');
    assert.equal(await runLines(s, 'show ldap server'), '(no LDAP servers configured)\n');
  } finally {
    await env.close();
  }
});

test('the OpenVPN first factor follows the method: a directory with no usable server fails closed, never the local users', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    const ff = env.app.radius.openvpnFirstFactor;
    const check = () => ff.check('alice', Buffer.from('alicepw'));
    await runLines(s, 'conf t', 'radius-server local', 'user alice password alicepw', 'exit');
    assert.deepEqual(await check(), { answer: 'accept' }, 'no method list: the local users');
    assert.equal(ff.mayGiveEmail?.(), false);
    await runLines(s, 'aaa authentication openvpn default group ldap 2fa');
    assert.deepEqual(await check(), { answer: 'timeout' }, 'group ldap without servers');
    assert.equal(ff.mayGiveEmail?.(), true);
    await runLines(s, 'aaa group server ldap dirs', 'server gone', 'exit', 'aaa authentication openvpn default group dirs 2fa');
    assert.deepEqual(await check(), { answer: 'timeout' }, 'a group whose members do not exist');
    await runLines(s, 'ldap-server gone', 'base-dn dc=example,dc=test', 'exit');
    assert.deepEqual(await check(), { answer: 'timeout' }, 'a member without a host');
    assert.match(await runLines(s, 'do show ldap server gone'), /^ {2}Last error +: no host configured \(/m);
    await runLines(s, 'no aaa authentication openvpn default');
    assert.deepEqual(await check(), { answer: 'accept' });
  } finally {
    await env.close();
  }
});
