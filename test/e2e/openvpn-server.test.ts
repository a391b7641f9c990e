/**
 * The appliance as an OpenVPN server, end to end (issue #15): the running config starts Debian's
 * openvpn, stock openvpn clients on 127.0.0.1 connect with the profile `show openvpn client-config`
 * prints (written to a file unchanged; the test only adds options that keep the client off the
 * host's network), and every login is judged by the appliance's one login decision — the same
 * single use, lockout, policies and audit log as its RADIUS server, which this test also asks.
 * Codes come from TOTP computed here and from mail a real SMTP server (npm smtp-server) received.
 *
 * Needs root and /dev/net/tun for the server's device (CI runs as root); skipped with a message
 * otherwise. The tunnel subnet is in 198.18.0.0/15 (RFC 2544, never routed).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startMailSink, type MailSink } from '../helpers/mail-sink.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { ApplianceClock } from '../../src/util/clock.ts';
import { adminSession, newApp, runLines } from '../helpers/app.ts';
import { awplusArgv, runAwplus } from '../helpers/process.ts';
import { radclient } from '../helpers/radclient.ts';
import { freeUdpPort, isAlive, managedClient, Output, Processes, ptyClient, realPeerSkipReason, until } from '../openvpn/helpers.ts';

const SKIP = realPeerSkipReason();
// A tunnel number, and so a kernel device name (tunnelN), no other test uses at the same time.
const N = 200 + (process.pid % 700);
const TUNNEL = `tunnel${N}`;
const NET = `198.${18 + ((process.pid >> 8) % 2)}.${process.pid % 250}`;
const ROUTE = `198.${18 + ((process.pid >> 8) % 2)}.${(process.pid + 7) % 250}.0/24`;

const SECRETS = { alice: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', bob: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', carol: 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU' } as const;
const PASSWORDS = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw', erin: 'erin-pw', frank: 'frank-pw', gina: 'gina-pw' } as const;

type Env = Awaited<ReturnType<typeof newApp>>;
let env: Env;
let root = '';
let profilePath = '';
let noStaticPath = '';
let radiusPort = 0;
const procs = new Processes();
let smtp: MailSink | undefined;

/** The current TOTP code of `user`, `ahead` steps from now (the appliance clock is the host's here). */
const code = (user: keyof typeof SECRETS, ahead = 0) => hotp(base32Decode(SECRETS[user])!, timeStep(env.app.clock.now()) + ahead);
const cli = (...lines: string[]) => runLines(adminSession(env.app), ...lines);
/** Audit events of the embedded server's logins for `user`. */
const auths = (user: string) => env.log.events.filter((e) => e.event === 'openvpn-auth' && e.fields.user === user);

function credentials(user: keyof typeof PASSWORDS, password: string = PASSWORDS[user]): string {
  const path = join(root, `${user}-${Math.random().toString(36).slice(2)}.creds`);
  writeFileSync(path, `${user}\n${password}\n`, { mode: 0o600 });
  return path;
}

/** A client on a pty: OpenVPN itself asks for the static challenge and sends SCRV1. */
function typed(user: keyof typeof PASSWORDS, typedCode: string, password?: string) {
  return ptyClient(profilePath, credentials(user, password), join(root, `${user}-${Math.random().toString(36).slice(2)}.pid`), typedCode, procs);
}

before(async () => {
  if (SKIP) return;
  root = mkdtempSync(join(tmpdir(), 'ovpn-e2e-'));
  smtp = await startMailSink();
  const smtpPort = smtp.port;
  env = await newApp({ clock: new ApplianceClock(), openvpn: { backoff: { initialMs: 500, maxMs: 4000 } } });
  radiusPort = await freeUdpPort();
  const vpnPort = await freeUdpPort();
  const setup = await cli(
    'conf t',
    'service 2fa',
    'mail from otp@example.com',
    `mail smtpserver 127.0.0.1 port ${smtpPort}`,
    '2fa email-otp',
    // The AW+ 2FA manual's setup: the built-in RADIUS server's users, reached as 127.0.0.1.
    'radius-server local',
    `server auth-port ${radiusPort}`,
    'nas 127.0.0.1 key nas-secret 2fa',
    ...Object.entries(PASSWORDS).map(([u, p]) => `user ${u} password ${p}`),
    'server enable',
    'exit',
    `radius-server host 127.0.0.1 auth-port ${radiusPort} key nas-secret`,
    'aaa authentication openvpn default group radius 2fa 2fa-in-password',
    `interface ${TUNNEL}`,
    `tunnel openvpn port ${vpnPort}`,
    'tunnel openvpn remote 127.0.0.1',
    `tunnel openvpn push route ${ROUTE}`,
    'tunnel mode openvpn tun',
    `ip address ${NET}.1/24`,
    'end',
    ...Object.entries(SECRETS).map(([u, s]) => `2fa create user ${u} secret ${s}`),
    '2fa user erin email erin@example.com',
    '2fa create user frank skip-2fa',
  );
  assert.doesNotMatch(setup.replace(/^% Email OTP has been enabled but the configuration is not secure.*\n/m, ''), /^% /m, setup);
  const profile = await cli(`show openvpn client-config ${TUNNEL}`);
  profilePath = join(root, 'awplus.ovpn');
  writeFileSync(profilePath, profile);
  // The same profile as a client without static-challenge support (OpenVPN 3 before 3.x, some GUIs).
  noStaticPath = join(root, 'awplus-no-static.ovpn');
  writeFileSync(noStaticPath, profile.replace(/^static-challenge .*\n/m, ''));
});

after(async () => {
  if (SKIP) return;
  const servers = env?.app.openvpn.status().flatMap((s) => (s.pid ? [s.pid] : [])) ?? [];
  try {
    await env?.close();
    assert.ok(servers.length > 0 && servers.every((p) => !isAlive(p)), 'App.stop() stopped the openvpn server');
  } finally {
    for (const p of servers) procs.add(p);
    await procs.killAll();
    await smtp?.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('the profile printed by show openvpn client-config is complete', { skip: SKIP }, () => {
  const profile = readFileSync(profilePath, 'utf8');
  assert.match(profile, new RegExp(`^remote 127\\.0\\.0\\.1 \\d+$`, 'm'));
  assert.match(profile, /^static-challenge "Verification Code:" 1$/m);
  assert.match(profile, /^<ca>\n-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n<\/ca>\n$/m);
  assert.doesNotMatch(profile, /PRIVATE KEY/);
  const status = env.app.openvpn.status();
  assert.deepEqual(status.map((s) => [s.name, s.state, s.device]), [[TUNNEL, 'up', TUNNEL]]);
});

let alice: ReturnType<typeof typed> | undefined;
let aliceCode = '';

test('static challenge: a stock client with the printed profile and a TOTP code connects', { skip: SKIP }, async () => {
  aliceCode = code('alice');
  alice = typed('alice', aliceCode);
  await alice.out.waitFor(/Initialization Sequence Completed/, 20_000);
  // The address comes from the tunnel subnet, the pushed route with it.
  assert.match(alice.out.text, new RegExp(`ifconfig ${NET.replace(/\./g, '\\.')}\\.2 255\\.255\\.255\\.0`));
  assert.match(alice.out.text, new RegExp(`route ${ROUTE.replace('/24', '').replace(/\./g, '\\.')} 255\\.255\\.255\\.0`));
  const auth = auths('alice').at(-1)!;
  assert.equal(auth.fields.result, 'accept');
  assert.equal(auth.fields.reason, 'ok-totp');
  assert.equal(auth.fields.tunnel, TUNNEL);
});

test('show openvpn connections lists the client, with detail', { skip: SKIP }, async () => {
  const table = await until('alice in show openvpn connections', 5000, async () => {
    const out = await cli('show openvpn connections');
    return out.includes('alice') ? out : undefined;
  });
  const lines = table.split('\n');
  assert.match(lines[0]!, /^Interface +User +Real address +Tunnel address +Connected since +Bytes in +Bytes out$/);
  assert.match(table, new RegExp(`^${TUNNEL} +alice +127\\.0\\.0\\.1:\\d+ +${NET.replace(/\./g, '\\.')}\\.2 +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +\\d+ +\\d+$`, 'm'));
  const detail = await cli('show openvpn connections detail');
  assert.match(detail, new RegExp(`^User alice on ${TUNNEL}\\n  Real address +: 127\\.0\\.0\\.1:\\d+\\n  Tunnel address +: ${NET.replace(/\./g, '\\.')}\\.2\\n  Connected since +: \\w{3}, \\d\\d \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d \\(0 days 00:00:\\d\\d\\)\\n`, 'm'));
  assert.match(detail, /^  Data cipher +: AES-256-GCM$/m);
  assert.match(await cli(`show interface ${TUNNEL}`), /^  Connected clients +: 1$/m);
  alice!.child.kill('SIGKILL');
});

test('a replayed code is refused, on this server and on the RADIUS server: one single-use state', { skip: SKIP }, async () => {
  const replay = typed('alice', aliceCode);
  await replay.out.waitFor(/AUTH_FAILED/, 20_000);
  replay.child.kill('SIGKILL');
  assert.equal(auths('alice').at(-1)!.fields.reason, 'reused');
  // The same code through the other front door, the appliance's RADIUS server.
  const r = await radclient(['User-Name = "alice"', `User-Password = "SCRV1:${Buffer.from(PASSWORDS.alice).toString('base64')}:${Buffer.from(aliceCode).toString('base64')}"`], {
    server: `127.0.0.1:${radiusPort}`,
    secret: 'nas-secret',
  });
  assert.equal(r.kind, 'reject', r.out);
  assert.ok(env.log.events.some((e) => e.event === 'radius-auth' && e.fields.user === 'alice' && e.fields.reason === 'reused'));
});

test('a wrong password is refused and does not spend the code; a wrong code is refused', { skip: SKIP }, async () => {
  const next = code('alice', 1);
  const wrongPassword = typed('alice', next, 'not-the-password');
  await wrongPassword.out.waitFor(/AUTH_FAILED/, 20_000);
  wrongPassword.child.kill('SIGKILL');
  assert.equal(auths('alice').at(-1)!.fields.reason, 'first-factor-reject');
  const wrongCode = typed('alice', next === '000000' ? '111111' : '000000');
  await wrongCode.out.waitFor(/AUTH_FAILED/, 20_000);
  wrongCode.child.kill('SIGKILL');
  assert.equal(auths('alice').at(-1)!.fields.reason, 'bad-code');
  // The code the wrong password came with is still good (AW+ order: the code is only spent with the login).
  const good = typed('alice', next);
  await good.out.waitFor(/Initialization Sequence Completed/, 20_000);
  good.child.kill('SIGKILL');
  assert.equal(auths('alice').at(-1)!.fields.reason, 'ok-totp');
});

test('2fa-in-password: a client without static-challenge sends password and code in one field', { skip: SKIP }, async () => {
  const bob = await managedClient(noStaticPath, 'bob', `${PASSWORDS.bob}${code('bob')}`, 'unused', procs);
  await bob.connected(20_000);
  assert.equal(bob.driver.challenges.length, 0, 'no challenge was needed');
  assert.equal(auths('bob').at(-1)!.fields.reason, 'ok-totp');
  bob.driver.close();
  bob.child.kill('SIGKILL');
});

let carol: Awaited<ReturnType<typeof managedClient>> | undefined;

test('CRV1: a client that sent only its password gets the challenge and answers it through its management interface', { skip: SKIP }, async () => {
  // reneg-sec 5: this client renegotiates its TLS session every 5 s (openvpn(8) --reneg-sec; either
  // side may start one), so the next test sees renegotiations.
  carol = await managedClient(noStaticPath, 'carol', PASSWORDS.carol, code('carol'), procs, ['--reneg-sec', '5']);
  await carol.connected(20_000);
  assert.equal(carol.driver.challenges.length, 1);
  assert.match(carol.driver.challenges[0]!, /\['CRV1:R,E:[A-Za-z0-9+/=]+:Y2Fyb2w=:Enter your verification code'\]$/);
  assert.deepEqual(
    auths('carol').map((e) => [e.fields.result, e.fields.reason]),
    [
      ['challenge', 'challenge'],
      ['accept', 'ok-totp'],
    ],
  );
});

test('a renegotiation is answered by the session token: no new code is asked', { skip: SKIP }, async () => {
  assert.ok(carol?.driver.connected());
  const from = env.log.events.length;
  // The client's reneg-sec 5 renegotiates within 4.5-5 s of the last key (openvpn(8) --reneg-sec, 10 % jitter).
  await until('a renegotiation of carol', 15_000, () =>
    env.log.events.slice(from).some((e) => e.event === 'openvpn-auth' && e.fields.user === 'carol' && e.fields.request === 'reauth') || undefined,
  );
  const reauths = env.log.events.slice(from).filter((e) => e.event === 'openvpn-auth' && e.fields.user === 'carol');
  assert.ok(reauths.every((e) => e.fields.result === 'accept' && e.fields.reason === 'session-token'), JSON.stringify(reauths));
  assert.equal(carol!.driver.challenges.length, 1, 'no second challenge');
  assert.ok(!env.log.events.slice(from).some((e) => e.event === '2fa-verify' && e.fields.user === 'carol'), 'no code was checked');
  assert.ok(!carol!.driver.authFailed());
});

test('clear openvpn connection drops the user; the client does not come back with its token', { skip: SKIP }, async () => {
  assert.equal(await cli('clear openvpn connection carol'), '');
  await until('carol gone', 15_000, async () => ((await cli('show openvpn connections')).includes('carol') ? undefined : true));
  // HALT: the client exits instead of reconnecting.
  await until('carol client exit', 10_000, () => (carol!.child.exitCode !== null || carol!.child.signalCode !== null) || undefined);
  assert.ok(env.log.events.some((e) => e.event === 'openvpn-cleared' && e.fields.user === 'carol'));
  assert.match(await cli('clear openvpn connection carol'), /^% User carol has no OpenVPN connection\n$/);
});

test('e-mail OTP: the code comes by mail from the SMTP server and answers the CRV1 challenge', { skip: SKIP }, async () => {
  const before = smtp!.mails.length;
  const fromMail = () =>
    until('the mail to erin', 10_000, () => (smtp!.mails.length > before ? /\b(\d{6})\b/.exec(smtp!.mails.at(-1)!.text)?.[1] : undefined));
  const erin = await managedClient(noStaticPath, 'erin', PASSWORDS.erin, fromMail, procs);
  await erin.connected(25_000);
  assert.equal(smtp!.mails.at(-1)!.to, 'erin@example.com');
  assert.match(erin.driver.challenges[0]!, /:Enter the verification code sent to your e-mail address'\]$/);
  assert.deepEqual(
    auths('erin').map((e) => [e.fields.result, e.fields.reason]),
    [
      ['challenge', 'email-sent'],
      ['accept', 'ok-email'],
    ],
  );
  erin.driver.close();
  erin.child.kill('SIGKILL');
});

test('skip-2fa logs in with the password alone; an unconfigured user is refused under reject-unconfigured-users', { skip: SKIP }, async () => {
  await cli('conf t', '2fa reject-unconfigured-users', 'end');
  const [frank, gina] = await Promise.all([managedClient(noStaticPath, 'frank', PASSWORDS.frank, 'unused', procs), managedClient(noStaticPath, 'gina', PASSWORDS.gina, 'unused', procs)]);
  await frank.connected(20_000);
  await until('gina refused', 20_000, () => gina.driver.authFailed() || undefined);
  assert.equal(auths('frank').at(-1)!.fields.reason, 'skip-2fa');
  assert.equal(auths('gina').at(-1)!.fields.reason, 'unconfigured-user');
  assert.equal(frank.driver.challenges.length + gina.driver.challenges.length, 0);
  for (const c of [frank, gina]) {
    c.driver.close();
    c.child.kill('SIGKILL');
  }
  await cli('conf t', 'no 2fa reject-unconfigured-users', 'end');
});

test('killing the openvpn child: the appliance logs it and starts it again', { skip: SKIP }, async () => {
  const old = env.app.openvpn.status()[0]!;
  assert.equal(old.state, 'up');
  process.kill(old.pid!, 'SIGKILL');
  const show = await until('the tunnel up again with a new process', 15_000, async () => {
    const out = await cli(`show interface ${TUNNEL}`);
    const pid = /OpenVPN server +: up, process (\d+)/.exec(out)?.[1];
    return pid && Number(pid) !== old.pid ? out : undefined;
  });
  assert.match(show, /^  Link is UP, administrative state is UP$/m);
  assert.match(show, /^  Restarts after a failure +: 1$/m);
  const log = await cli('show log | include openvpn-exit');
  assert.match(log, new RegExp(`openvpn-exit tunnel=${TUNNEL} pid=${old.pid} code=null signal=SIGKILL`));
  // And it serves logins again (bob's next code: the window takes one step ahead, single use only older ones).
  const bob = await managedClient(noStaticPath, 'bob', `${PASSWORDS.bob}${code('bob', 1)}`, 'unused', procs);
  await bob.connected(20_000);
  bob.driver.close();
  bob.child.kill('SIGKILL');
});

test('no password, code or session token in the audit log', { skip: SKIP }, () => {
  const text = JSON.stringify(env.log.events);
  for (const secret of [...Object.values(PASSWORDS), aliceCode, 'SCRV1', 'CRV1::', 'SESS_ID_', ...smtp!.mails.map((m) => /\b(\d{6})\b/.exec(m.text)![1]!)]) {
    assert.ok(!text.includes(secret), secret);
  }
});

test('kill -9 of the appliance daemon takes its openvpn server with it', { skip: SKIP }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ovpn-daemon-'));
  const mine = new Processes();
  t.after(async () => {
    await mine.killAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = await freeUdpPort();
  writeFileSync(join(dir, 'default.cfg'), `!\ninterface ${TUNNEL.replace(/\d+$/, String(N + 1))}\n tunnel openvpn port ${port}\n tunnel mode openvpn tun\n ip address ${NET.replace(/\.\d+$/, `.${(process.pid + 3) % 250}`)}.1/24\n!\nend\n`);
  const daemon = spawn(process.execPath, awplusArgv(['--daemon', '--flash', dir]), { stdio: ['ignore', 'pipe', 'pipe'] });
  mine.add(daemon.pid);
  const out = new Output(daemon);
  // "ready" comes once every configured service runs, the OpenVPN server included.
  await out.waitFor(/ready/, 30_000);
  const show = await runAwplus(['connect', '--flash', dir], `show interface tunnel${N + 1}\n`);
  const pid = Number(/OpenVPN server +: up, process (\d+)/.exec(show.stdout)?.[1]);
  assert.ok(pid > 0, show.stdout);
  mine.add(pid);
  assert.match(readFileSync(`/proc/${pid}/comm`, 'utf8'), /^openvpn/);
  process.kill(daemon.pid!, 'SIGKILL');
  await until('openvpn to die with the appliance', 5000, () => !isAlive(pid) || undefined);
});
