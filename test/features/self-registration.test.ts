/**
 * The self-registration page's commands in the appliance (issue 14): `2fa self-registration port`,
 * `… certificate … key …`, `aaa authentication 2fa-registration`, `show 2fa self-registration`; the
 * page follows the config without a restart, is held while a startup config is applied, keeps its
 * self-signed certificate across restarts, and renders so that render → boot → render is the same.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { certificateAuthority, describeCertificate, issue, selfSignedServer } from '../../src/util/x509.ts';
import { LOGIN_FAILED, TRY_LATER } from '../../src/web/pages/login-form.ts';
import { adminSession, newApp, runLines, T0, tempFlash } from '../helpers/app.ts';
import { startFreeradius } from '../helpers/freeradius.ts';
import { BASE_DN, READER_DN, READER_PASSWORD, startSlapd } from '../helpers/slapd.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { fetchPage, freePort, occupyPort, openForm, postLogin, servedFingerprint, testCertificate } from '../web/fixture.ts';

type Env = Awaited<ReturnType<typeof newApp>>;
const cli = (env: Env) => {
  const s = adminSession(env.app);
  return { run: (...lines: string[]) => runLines(s, ...lines), conf: (...lines: string[]) => runLines(s, 'conf t', ...lines, 'end') };
};
/** `show 2fa self-registration` as name → value. */
async function shown(env: Env): Promise<Record<string, string>> {
  const out = await cli(env).run('show 2fa self-registration');
  return Object.fromEntries([...out.matchAll(/^(\S[^:\n]*?) +: (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}
/** Runs `work` with an appliance on the flash `dir`, stopped afterwards whatever happens (the flash stays). */
async function withApp<T>(dir: string, work: (env: Env) => Promise<T>): Promise<T> {
  const env = await newApp({ dir });
  try {
    return await work(env);
  } finally {
    await env.app.stop();
  }
}
const refusedAt = (port: number) => fetchPage(port).then(
  () => undefined,
  (e: NodeJS.ErrnoException) => e.code,
);

test('the commands need service 2fa; the page opens, moves and closes with the config, no restart', async () => {
  const env = await newApp();
  const { run, conf } = cli(env);
  try {
    const [a, b] = [await freePort(), await freePort()];
    assert.match(await conf(`2fa self-registration port ${a}`), /^% The 2FA service is not enabled$/m);
    assert.match(await run('show 2fa self-registration'), /^% The 2FA service is not enabled$/m);
    assert.doesNotMatch(await conf('service 2fa', `2fa self-registration port ${a}`), /%/);
    let s = await shown(env);
    assert.equal(s['State'], `Listening on TCP port ${a}`);
    assert.equal(s['URL'], `https://awplus:${a}/2fa-registration`);
    assert.equal(s['First factor'], 'local RADIUS users (no aaa authentication 2fa-registration)');
    assert.equal(s['Certificate'], 'self-signed, made by this appliance');
    assert.equal(s['Certificate SHA-256'], await servedFingerprint(a));
    assert.match(env.app.renderRunning('2fa'), new RegExp(`^service 2fa\\n2fa self-registration port ${a}\\n`, 'm'));

    await conf(`2fa self-registration port ${b}`, 'hostname gw1');
    assert.equal(await refusedAt(a), 'ECONNREFUSED');
    assert.equal(await servedFingerprint(b), s['Certificate SHA-256'], 'the same certificate on the new port');
    assert.equal((await shown(env))['URL'], `https://gw1:${b}/2fa-registration`);

    // `no service 2fa` closes the page and keeps the setting (as every 2FA setting); `service 2fa` reopens it.
    await conf('no service 2fa');
    assert.equal(await refusedAt(b), 'ECONNREFUSED');
    assert.match(env.app.renderRunning('2fa'), new RegExp(`service 2fa\\n2fa self-registration port ${b}\\nno service 2fa`));
    await conf('service 2fa');
    assert.equal(await servedFingerprint(b), s['Certificate SHA-256']);

    await conf('no 2fa self-registration port');
    assert.equal(await refusedAt(b), 'ECONNREFUSED');
    s = await shown(env);
    assert.deepEqual([s['State'], s['Port'], s['URL']], ['Disabled (no port configured)', '-', '-']);
    assert.doesNotMatch(env.app.renderRunning(), /self-registration/);
  } finally {
    await env.close();
  }
});

test('a port in use is a % warning; the setting stays, and entering the command again listens once it is free', async () => {
  const held = await occupyPort();
  try {
    const env = await newApp();
    const { conf } = cli(env);
    try {
      const out = await conf('service 2fa', `2fa self-registration port ${held.port}`);
      assert.match(out, new RegExp(`^% Warning: the self-registration page cannot listen: port ${held.port} is already in use$`, 'm'));
      assert.equal((await shown(env))['State'], `Not listening (port ${held.port} is already in use)`);
      assert.match(env.app.renderRunning(), new RegExp(`2fa self-registration port ${held.port}`));
      // Other commands do not retry (nor fill the log with the same failure).
      const failures = () => env.log.events.filter((e) => e.event === 'web-listen-failed').length;
      const before = failures();
      await conf('hostname gw2');
      assert.equal(failures(), before);
      await new Promise((r) => held.server.close(r));
      assert.doesNotMatch(await conf(`2fa self-registration port ${held.port}`), /%/);
      assert.equal((await shown(env))['State'], `Listening on TCP port ${held.port}`);
    } finally {
      await env.close();
    }
  } finally {
    if (held.server.listening) held.server.close();
  }
});

test('a startup config is applied before the page opens: a port it goes on to change is never opened', async () => {
  const [a, b] = [await freePort(), await freePort()];
  const env = await newApp({ files: { 'default.cfg': `service 2fa\n2fa self-registration port ${a}\n2fa self-registration port ${b}\n` } });
  try {
    assert.deepEqual(env.report.errors, []);
    const opened = env.log.events.filter((e) => e.event === 'web-listening').map((e) => e.fields['port']);
    assert.deepEqual(opened, [b]);
    assert.equal((await shown(env))['State'], `Listening on TCP port ${b}`);
  } finally {
    await env.close();
  }
});

test('the self-signed certificate is made once and survives a restart and a reboot', async () => {
  const flash = tempFlash();
  const port = await freePort();
  try {
    const first = await withApp(flash.dir, async (env) => {
      await cli(env).conf('service 2fa', `2fa self-registration port ${port}`, 'end', 'write memory');
      const fp = (await shown(env))['Certificate SHA-256'];
      assert.match(fp ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      await env.app.reboot();
      assert.equal(await servedFingerprint(port), fp);
      return fp;
    });
    await withApp(flash.dir, async (env) => {
      assert.equal(await servedFingerprint(port), first);
      assert.equal((await shown(env))['Certificate SHA-256'], first);
      assert.equal(env.log.events.filter((e) => e.event === 'web-certificate-created').length, 0);
    });
  } finally {
    flash.cleanup();
  }
});

test('2fa self-registration certificate: checked when configured, served at once, shown; no form returns to the self-signed one', async () => {
  const env = await newApp();
  const { conf } = cli(env);
  const write = (name: string, text: string) => writeFileSync(join(env.dir, name), text);
  try {
    const port = await freePort();
    await conf('service 2fa', `2fa self-registration port ${port}`);
    const selfSigned = await servedFingerprint(port);
    const real = await selfSignedServer({ commonName: 'gw.example.jp', dnsNames: ['gw.example.jp'], now: T0, days: 365 });
    const other = await selfSignedServer({ commonName: 'other', now: T0, days: 365 });
    write('gw.crt', real.cert);
    write('gw.key', real.key);
    write('other.key', other.key);
    write('junk.crt', 'not a certificate\n');

    assert.match(await conf('2fa self-registration certificate flash:/missing.crt key flash:/gw.key'), /^% File flash:\/missing\.crt does not exist$/m);
    assert.match(await conf('2fa self-registration certificate flash:/junk.crt key flash:/gw.key'), /^% The certificate cannot be used: the certificate file is not a PEM X\.509 certificate$/m);
    assert.match(await conf('2fa self-registration certificate flash:/gw.crt key flash:/gw.crt'), /^% The certificate cannot be used: the key file is not a PEM private key without a passphrase$/m);
    assert.match(await conf('2fa self-registration certificate flash:/gw.crt key flash:/other.key'), /^% The certificate cannot be used: the key does not belong to the certificate$/m);
    assert.equal(await servedFingerprint(port), selfSigned, 'nothing changed');

    assert.doesNotMatch(await conf('2fa self-registration certificate flash:/gw.crt key flash:/gw.key'), /%/);
    const fp = describeCertificate(real.cert).fingerprint;
    assert.equal(await servedFingerprint(port), fp);
    const s = await shown(env);
    assert.equal(s['Certificate'], 'flash:/gw.crt');
    assert.equal(s['Certificate SHA-256'], fp);
    assert.equal(s['Certificate subject'], 'CN=gw.example.jp');
    assert.match(s['Certificate expires'] ?? '', /^\w{3}, 03 Mar 2025 12:00:00 UTC$/);
    // Like every displayed time, in the configured zone.
    await conf('clock timezone JST plus 9');
    assert.match((await shown(env))['Certificate expires'] ?? '', /^\w{3}, 03 Mar 2025 21:00:00 JST$/);
    await conf('no clock timezone');
    assert.equal(s['URL'], `https://gw.example.jp:${port}/2fa-registration`, 'the name the certificate is for');
    assert.match(env.app.renderRunning('2fa'), new RegExp(`2fa self-registration certificate flash:/gw\\.crt key flash:/gw\\.key\\n2fa self-registration port ${port}\\n`));

    // A certificate from a CA, with the CA after it in the file (the chain a server sends); not the other way round.
    const ca = await certificateAuthority({ commonName: 'Example CA', now: T0, days: 365 });
    const leaf = await issue(ca, { commonName: 'vpn.example.jp', dnsNames: ['vpn.example.jp'], now: T0, days: 90 }, 'server');
    write('chain.crt', `${leaf.cert}\n${ca.cert}\n`);
    write('reversed.crt', `${ca.cert}\n${leaf.cert}\n`);
    write('glued.crt', leaf.cert + ca.cert);
    write('leaf.key', leaf.key);
    assert.match(await conf('2fa self-registration certificate flash:/reversed.crt key flash:/leaf.key'), /^% The certificate cannot be used: the certificates in the file are not in order/m);
    assert.match(await conf('2fa self-registration certificate flash:/glued.crt key flash:/leaf.key'), /^% The certificate cannot be used: TLS does not accept the files: .*bad end line$/m, 'no line break between two certificates');
    assert.doesNotMatch(await conf('2fa self-registration certificate flash:/chain.crt key flash:/leaf.key'), /%/);
    assert.equal(await servedFingerprint(port), describeCertificate(leaf.cert).fingerprint);
    assert.equal((await shown(env))['URL'], `https://vpn.example.jp:${port}/2fa-registration`);

    // An expired certificate is taken with a warning (the administrator may be about to replace it).
    const old = await selfSignedServer({ commonName: 'old', now: T0 - 400 * 86_400_000, days: 30 });
    write('old.crt', old.cert);
    write('old.key', old.key);
    assert.match(await conf('2fa self-registration certificate flash:/old.crt key flash:/old.key'), /^% Warning: the certificate expired on .* 2023 .*; browsers will refuse it$/m);
    assert.match((await shown(env))['Certificate expires'] ?? '', /\(expired\)$/);

    await conf('no 2fa self-registration certificate');
    assert.equal(await servedFingerprint(port), selfSigned);
    assert.doesNotMatch(env.app.renderRunning(), /certificate/);
  } finally {
    await env.close();
  }
});

test('aaa authentication 2fa-registration: radius, ldap or an existing group, and a no form', async () => {
  const env = await newApp();
  const { conf } = cli(env);
  try {
    assert.match(await conf('aaa authentication 2fa-registration default group corp'), /^% No RADIUS or LDAP server group is named corp$/m);
    assert.doesNotMatch(await conf('aaa authentication 2fa-registration default group ldap'), /%/);
    assert.match(env.app.renderRunning('aaa'), /^aaa authentication 2fa-registration default group ldap$/m);
    assert.doesNotMatch(await conf('aaa group server radius corp', 'exit', 'aaa authentication 2fa-registration default group corp'), /%/);
    assert.match(env.app.renderRunning('aaa'), /^aaa authentication 2fa-registration default group corp$/m);
    await conf('aaa authentication 2fa-registration default group radius');
    assert.match(env.app.renderRunning('aaa'), /^aaa authentication 2fa-registration default group radius$/m);
    await conf('service 2fa');
    assert.equal((await shown(env))['First factor'], 'group radius');
    await conf('no aaa authentication 2fa-registration default');
    assert.doesNotMatch(env.app.renderRunning(), /2fa-registration/);
  } finally {
    await env.close();
  }
});

test('render → boot → render with the page on, an installed certificate and a registration group', async () => {
  const flash = tempFlash();
  const port = await freePort();
  try {
    const tls = await testCertificate();
    writeFileSync(join(flash.dir, 'page.crt'), tls.cert);
    writeFileSync(join(flash.dir, 'page.key'), tls.key);
    const rendered = await withApp(flash.dir, async (env) => {
      await cli(env).conf(
        'service 2fa',
        '2fa self-registration certificate flash:/page.crt key flash:/page.key',
        `2fa self-registration port ${port}`,
        'radius-server host 192.0.2.10 key upstream',
        'aaa group server radius corp',
        'server 192.0.2.10',
        'exit',
        'aaa authentication 2fa-registration default group corp',
      );
      return env.app.renderRunning();
    });
    writeFileSync(join(flash.dir, 'default.cfg'), rendered);
    await withApp(flash.dir, async (env) => {
      assert.deepEqual(env.report.errors, []);
      assert.equal(env.app.renderRunning(), rendered);
      assert.equal(await servedFingerprint(port), describeCertificate(tls.cert).fingerprint);
    });
  } finally {
    flash.cleanup();
  }
});

test('through the page: registration, a second one refused, counted in show; clear 2fa lockout and 2fa delete user act on it', async () => {
  const env = await newApp();
  const { run, conf } = cli(env);
  try {
    // A certificate for 127.0.0.1 so the test client can verify it.
    const tls = await testCertificate();
    writeFileSync(join(env.dir, 'page.crt'), tls.cert);
    writeFileSync(join(env.dir, 'page.key'), tls.key);
    const port = await freePort();
    await conf(
      'service 2fa',
      '2fa lockout failures 2 period 300',
      '2fa self-registration certificate flash:/page.crt key flash:/page.key',
      `2fa self-registration port ${port}`,
      'radius-server local',
      'user alice password alice-pw',
      'user dave password dave-pw',
    );
    const login = async (user: string, password: string) => {
      const form = await openForm(port);
      return postLogin(port, { user, password, cookie: form.cookie, token: form.token });
    };
    assert.equal((await login('alice', 'alice-pw')).status, 200);
    assert.equal((await env.app.twofa.get('alice'))?.kind, 'totp');
    assert.equal((await login('alice', 'alice-pw')).status, 409);
    // dave has no record: two wrong passwords lock him out of the page, in memory.
    for (let i = 0; i < 2; i++) assert.equal((await login('dave', 'wrong')).status, 200);
    assert.ok((await login('dave', 'dave-pw')).body.includes(LOGIN_FAILED), 'locked out: the one generic message');
    let s = await shown(env);
    assert.deepEqual(
      [s['Registrations'], s['Already registered'], s['Failed logins'], s['Refused, locked out'], s['Names locked out now']],
      ['1', '1', '2', '1', '1 (without a 2FA record)'],
    );
    assert.doesNotMatch(await run('clear 2fa lockout dave'), /%/);
    assert.ok(env.log.events.some((e) => e.event === 'registration-lockout-cleared' && e.fields['user'] === 'dave'));
    assert.equal((await login('dave', 'dave-pw')).status, 200);
    assert.equal((await env.app.twofa.get('dave'))?.kind, 'totp');
    assert.match(await run('clear 2fa lockout nobody'), /^% 2FA user nobody does not exist$/m, 'nothing to clear anywhere');

    // `2fa delete user` lets alice register again, with a new secret.
    const before = (await env.app.twofa.get('alice'))!.secret;
    await run('2fa delete user alice');
    assert.equal((await login('alice', 'alice-pw')).status, 200);
    assert.notEqual((await env.app.twofa.get('alice'))!.secret, before);
    s = await shown(env);
    assert.equal(s['Registrations'], '3');
  } finally {
    await env.close();
  }
});

test('a registration group of upstream RADIUS servers is asked with the RADIUS path’s own client; a silent one is “try later”', async () => {
  const env = await newApp();
  const { conf } = cli(env);
  let fr: Awaited<ReturnType<typeof startFreeradius>> | undefined;
  try {
    const [frPort, frAcct, deadPort] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
    fr = await startFreeradius(frPort, frAcct);
    const tls = await testCertificate();
    writeFileSync(join(env.dir, 'page.crt'), tls.cert);
    writeFileSync(join(env.dir, 'page.key'), tls.key);
    const port = await freePort();
    const setup = await conf(
      'service 2fa',
      '2fa self-registration certificate flash:/page.crt key flash:/page.key',
      `2fa self-registration port ${port}`,
      `radius-server host 127.0.0.1 auth-port ${frPort} key upstreamsecret`,
      `radius-server host 127.0.0.1 auth-port ${deadPort} key nobody-answers`,
      'radius-server timeout 1',
      'radius-server retransmit 0',
      'aaa group server radius corp',
      `server 127.0.0.1 auth-port ${frPort}`,
      'exit',
      'aaa group server radius silent',
      `server 127.0.0.1 auth-port ${deadPort}`,
      'exit',
      'aaa authentication 2fa-registration default group corp',
    );
    assert.doesNotMatch(setup, /%/);
    const login = async (user: string, password: string) => {
      const form = await openForm(port);
      return postLogin(port, { user, password, cookie: form.cookie, token: form.token });
    };
    // FreeRADIUS (fixtures/freeradius/users) knows carol; the local users do not.
    assert.equal((await login('carol', 'carol-upstream')).status, 200);
    assert.equal((await env.app.twofa.get('carol'))?.kind, 'totp');
    assert.ok((await login('alice', 'wrong')).body.includes(LOGIN_FAILED));
    assert.equal(env.app.radius.upstream.counters.get(`127.0.0.1:${frPort}`)?.accepts, 1, 'show radius statistics counts the page’s requests too');
    assert.equal(env.app.radius.upstream.counters.get(`127.0.0.1:${frPort}`)?.rejects, 1);

    await conf('aaa authentication 2fa-registration default group silent');
    const silent = await login('carol', 'carol-upstream');
    assert.equal(silent.status, 503);
    assert.ok(silent.body.includes(TRY_LATER));
    assert.equal((await shown(env))['First factor timeouts'], '1');
  } finally {
    await fr?.stop();
    await env.close();
  }
});

test('the page checks passwords against an LDAP directory with aaa authentication 2fa-registration default group ldap', async () => {
  const ldap = await startSlapd();
  const env = await newApp();
  const { conf } = cli(env);
  const port = await freePort();
  try {
    const tls = await testCertificate();
    writeFileSync(join(env.dir, 'page.crt'), tls.cert);
    writeFileSync(join(env.dir, 'page.key'), tls.key);
    const setup = await conf(
      'service 2fa',
      '2fa self-registration certificate flash:/page.crt key flash:/page.key',
      'ldap-server dir',
      'host 127.0.0.1',
      `port ${ldap.ldapPort}`,
      `base-dn ${BASE_DN}`,
      `bind-dn ${READER_DN} password ${READER_PASSWORD}`,
      'exit',
      'aaa authentication 2fa-registration default group ldap',
      `2fa self-registration port ${port}`,
    );
    assert.doesNotMatch(setup, /%/);
    // alice's password lives only in the directory.
    const wrong = await openForm(port);
    const refused = await postLogin(port, { user: 'alice', password: 'nope', cookie: wrong.cookie, token: wrong.token });
    assert.ok(refused.body.includes(LOGIN_FAILED), 'a wrong password gets the generic error');
    const form = await openForm(port);
    const ok = await postLogin(port, { user: 'alice', password: 'alicepw', cookie: form.cookie, token: form.token });
    assert.equal(ok.status, 200, ok.body);
    assert.match(ok.body, /otpauth:\/\/totp\/alice@awplus\?secret=/);
    const user = await env.app.twofa.get('alice');
    assert.equal(user?.kind, 'totp', 'alice is a TOTP user now');
    assert.match(await cli(env).run('show ldap server dir'), /Accepts +: 1\n/);
  } finally {
    await env.close();
    await ldap.close();
  }
});
