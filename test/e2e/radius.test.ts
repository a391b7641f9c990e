/**
 * The RADIUS service with real peers on 127.0.0.1 (issue #4): radclient (freeradius-utils) as the NAS,
 * FreeRADIUS as the upstream first factor, and raw datagrams for what radclient cannot show (attribute
 * order, byte-identical duplicate answers, malformed packets).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { checkResponseAuthenticator, encodeRequest, hidePassword } from '../../src/radius/crypto.ts';
import { Attr, parsePacket } from '../../src/radius/packet.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { sha512Crypt } from '../../src/util/crypt.ts';
import { adminSession, newApp, runLines, T0 } from '../helpers/app.ts';
import { startFreeradius } from '../helpers/freeradius.ts';
import { radclient, type RadclientOptions } from '../helpers/radclient.ts';
import { RadiusProbe } from '../helpers/radius-probe.ts';

const BASE = 20000 + (process.pid % 5000);
const PORT = BASE; // our local server
const FR_PORT = BASE + 1; // FreeRADIUS upstream
const DEAD_PORT = BASE + 2; // nothing listens here
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** radclient as the NAS of our local server. */
const rad = (lines: string[], o: Partial<RadclientOptions> = {}) => radclient(lines, { server: `127.0.0.1:${PORT}`, secret: 'nassecret', ...o });

const login = (user: string, password: string, extra: string[] = [], radclientArgs: string[] = []) =>
  rad([`User-Name = "${user}"`, `User-Password = "${password}"`, ...extra], { extra: radclientArgs });

/** Sends raw datagrams from one socket, `gapMs` apart, and collects the replies (bounded wait). */
async function sendRaw(packets: Buffer[], waitMs = 1000, gapMs = 0): Promise<Buffer[]> {
  const socket = createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (m) => replies.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  for (const p of packets) {
    socket.send(p, PORT, '127.0.0.1');
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  await new Promise((r) => setTimeout(r, waitMs));
  socket.close();
  return replies;
}

function rawRequest(user: string, password: string, secret = 'nassecret', extra: { type: number; value: Buffer }[] = []) {
  const authenticator = randomBytes(16);
  const s = Buffer.from(secret);
  return {
    authenticator,
    packet: encodeRequest(
      7,
      authenticator,
      [{ type: Attr.UserName, value: Buffer.from(user) }, { type: Attr.UserPassword, value: hidePassword(Buffer.from(password), s, authenticator) }, ...extra],
      s,
    ),
  };
}

test('RADIUS with radclient and FreeRADIUS', async () => {
  const env = await newApp();
  const fr = await startFreeradius(FR_PORT);
  const s = adminSession(env.app);
  const cfg = (...lines: string[]) => runLines(s, 'conf t', ...lines, 'end');
  // Each login uses a fresh time step (single use): move the appliance clock one step and take its code.
  let step = 0;
  const next = () => {
    step++;
    env.app.clock.set(T0 + step * 30_000);
    return hotp(base32Decode(SECRET)!, timeStep(T0) + step);
  };
  const previous = () => hotp(base32Decode(SECRET)!, timeStep(T0) + step - 1);
  try {
    const setup = await cfg(
      'service 2fa',
      'radius-server local',
      `server auth-port ${PORT}`,
      'nas 127.0.0.1 key nassecret 2fa',
      'user alice password alicepw',
      'user bob password bobpw',
      'server enable',
    );
    assert.doesNotMatch(setup, /%/);
    await runLines(s, `2fa create user alice secret ${SECRET}`, '2fa create user zed skip-2fa');
    const scratch = [...(await env.app.twofa.get('alice'))!.scratch];

    // SCRV1 (OpenVPN static challenge): the code first, then the local first factor.
    const c1 = next();
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(c1)}`)).kind, 'accept');
    // The same code again: single use.
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(c1)}`)).kind, 'reject');
    // A wrong first factor with a good code: rejected (and the code is used up).
    assert.equal((await login('alice', `SCRV1:${b64('wrong')}:${b64(next())}`)).kind, 'reject');
    // A scratch code through SCRV1.
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(scratch[0]!)}`)).kind, 'accept');

    // Password alone → Access-Challenge with Reply-Message and State; the code answers it.
    const first = (await login('alice', 'alicepw'));
    assert.equal(first.kind, 'challenge');
    assert.match(first.out, /Reply-Message = "Enter your verification code"/);
    assert.ok(first.state);
    assert.equal((await login('alice', previous(), [`State = ${first.state}`])).kind, 'reject', 'older than the newest used step');
    const second = (await login('alice', 'alicepw'));
    assert.equal((await login('alice', '000000', [`State = ${second.state}`])).kind, 'reject');
    assert.equal((await login('alice', scratch[1]!, [`State = ${second.state}`])).kind, 'reject', 'a State is single use');
    const third = (await login('alice', 'alicepw'));
    assert.equal((await login('alice', scratch[1]!, [`State = ${third.state}`])).kind, 'accept');

    // Users without a 2FA record: first factor only by default; skip-2fa users too.
    assert.equal((await login('bob', 'bobpw')).kind, 'accept');
    assert.equal((await login('bob', 'nope')).kind, 'reject');
    await runLines(s, 'conf t', 'radius-server local', 'user zed password zedpw', 'end');
    assert.equal((await login('zed', 'zedpw')).kind, 'accept');
    await cfg('2fa reject-unconfigured-users');
    assert.equal((await login('bob', 'bobpw')).kind, 'reject');
    assert.equal((await login('zed', 'zedpw')).kind, 'accept', 'skip-2fa beats reject-unconfigured-users');
    await cfg('no 2fa reject-unconfigured-users');

    // 2fa-in-password: <password><6-digit code>, then <password><8-digit scratch code>.
    await cfg('aaa group server radius self', `server 127.0.0.1 auth-port ${PORT}`, 'exit', 'aaa authentication openvpn default group self 2fa 2fa-in-password');
    assert.equal((await login('alice', `alicepw${next()}`)).kind, 'accept');
    assert.equal((await login('alice', `alicepw${scratch[2]}`)).kind, 'accept');
    // Used up, it is no longer a scratch code: its last 6 digits are tried as a code, and fail.
    assert.equal((await login('alice', `alicepw${scratch[2]}`)).kind, 'reject');

    // The reply's first attribute is Message-Authenticator (BlastRADIUS); Proxy-State is echoed.
    const req = rawRequest('bob', 'bobpw', 'nassecret', [{ type: Attr.ProxyState, value: Buffer.from('p1') }, { type: Attr.ProxyState, value: Buffer.from('p2') }]);
    const [reply] = await sendRaw([req.packet]);
    const parsed = parsePacket(reply!);
    assert.equal(parsed.code, 2);
    assert.equal(reply![20], Attr.MessageAuthenticator);
    assert.ok(checkResponseAuthenticator(parsed, req.authenticator, Buffer.from('nassecret')));
    assert.deepEqual(parsed.attributes.filter((a) => a.type === Attr.ProxyState).map((a) => a.value.toString()), ['p1', 'p2']);

    // A retransmission (same socket, Identifier and authenticator) after the answer gets the same bytes
    // back and is not evaluated again: a second evaluation would refuse the used code. (One that
    // arrives while the first is still being decided is dropped: RFC 5080 §2.2.2.)
    const retrans = rawRequest('alice', `SCRV1:${b64('alicepw')}:${b64(next())}`);
    const replies = await sendRaw([retrans.packet, retrans.packet, retrans.packet], 300, 300);
    assert.equal(replies.length, 3);
    assert.equal(replies[0]![0], 2, 'Access-Accept');
    for (const r of replies) assert.deepEqual(r, replies[0]);
    assert.match(await runLines(s, 'show radius local-server statistics'), /Duplicates answered {2}: [1-9]/);

    // radclient -r retransmits byte-identical requests when it hears nothing in time: still one decision.
    const before = env.app.radius.server.stats.requests;
    const r3 = (await rad([`User-Name = "bob"`, `User-Password = "bobpw"`], { extra: ['-r', '3'] }));
    assert.equal(r3.kind, 'accept');
    assert.equal(env.app.radius.server.stats.requests, before + 1);

    // Wrong shared secret: the Message-Authenticator does not verify, the packet is dropped.
    assert.equal((await rad([`User-Name = "bob"`, `User-Password = "bobpw"`], { secret: 'wrong' })).kind, 'none');
    // Malformed datagrams are dropped without harm; the server still answers afterwards.
    assert.deepEqual(await sendRaw([Buffer.from('garbage'), Buffer.alloc(30, 1)], 300), []);
    assert.equal((await login('bob', 'bobpw')).kind, 'accept');
    // require-message-authenticator: a request without one is dropped.
    await cfg('radius-server local', 'nas 127.0.0.1 key nassecret 2fa require-message-authenticator');
    assert.equal((await rad([`User-Name = "bob"`, `User-Password = "bobpw"`], { ma: false })).kind, 'none');
    assert.equal((await login('bob', 'bobpw')).kind, 'accept');

    // 2fa only (AWS Managed AD MFA): the password is the code alone.
    await cfg('radius-server local', 'nas 127.0.0.1 key nassecret 2fa only');
    const c3 = next();
    assert.equal((await login('alice', c3)).kind, 'accept');
    assert.equal((await login('alice', c3)).kind, 'reject');
    assert.equal((await login('bob', 'anything')).kind, 'accept', 'no 2FA record: the directory did the first factor');
    // A plain NAS entry: local users only, no second factor.
    await cfg('radius-server local', 'nas 127.0.0.1 key nassecret');
    assert.equal((await login('alice', 'alicepw')).kind, 'accept');
    // An unknown client is dropped.
    await cfg('radius-server local', 'no nas 127.0.0.1', 'nas 127.0.0.9 key nassecret');
    assert.equal((await login('alice', 'alicepw')).kind, 'none');
    await cfg('radius-server local', 'no nas 127.0.0.9', 'nas 127.0.0.1 key nassecret 2fa');

    // Upstream FreeRADIUS as the first factor; the second factor is checked first.
    await cfg(`radius-server host 127.0.0.1 auth-port ${FR_PORT} key upstreamsecret`, 'radius-server timeout 1', 'radius-server retransmit 0', 'aaa authentication openvpn default group radius 2fa');
    assert.equal((await login('alice', `SCRV1:${b64('alice-upstream')}:${b64(next())}`)).kind, 'accept');
    assert.equal((await login('alice', `SCRV1:${b64('alicepw')}:${b64(next())}`)).kind, 'reject', 'upstream rejects the local password');
    const before2 = env.app.radius.upstream.counters.get(`127.0.0.1:${FR_PORT}`)!.requests;
    assert.equal((await login('alice', `SCRV1:${b64('alice-upstream')}:000000`)).kind, 'reject');
    assert.equal(env.app.radius.upstream.counters.get(`127.0.0.1:${FR_PORT}`)!.requests, before2, 'a failed code never reaches the first factor');

    // A dead first host: the next one answers; with deadtime the dead one is skipped afterwards.
    await cfg(
      `no radius-server host 127.0.0.1 auth-port ${FR_PORT}`,
      `radius-server host 127.0.0.1 auth-port ${DEAD_PORT} key upstreamsecret`,
      `radius-server host 127.0.0.1 auth-port ${FR_PORT} key upstreamsecret`,
      'radius-server deadtime 5',
    );
    // The first try waits out the dead host's 1 s timeout: give radclient longer than that.
    assert.equal((await login('alice', `SCRV1:${b64('alice-upstream')}:${b64(next())}`, [], ['-t', '4'])).kind, 'accept');
    assert.equal((await login('alice', `SCRV1:${b64('alice-upstream')}:${b64(next())}`)).kind, 'accept');
    const stats = await runLines(s, 'show radius statistics');
    assert.match(stats, new RegExp(`127\\.0\\.0\\.1:${DEAD_PORT} +1 +0 +0 +1 +0\\n`), stats);
    assert.match(stats, new RegExp(`127\\.0\\.0\\.1:${FR_PORT} +\\d+ +\\d+ +1 +0 +0\\n`), stats);

    // Every decision is in the audit log with its reason, never with a password or code.
    const log = await runLines(s, 'show log | include radius-auth');
    assert.match(log, /radius-auth user=alice client=127\.0\.0\.1 result=reject reason=reused/);
    assert.match(log, /radius-auth user=alice client=127\.0\.0\.1 result=challenge reason=challenge/);
    assert.ok(!log.includes('alicepw') && !log.includes(c1) && !log.includes(c3));
    assert.match(await runLines(s, 'show radius local-server statistics'), /Access-Challenges {4}: [1-9]/);
    await runLines(s, 'clear radius statistics');
    assert.match(await runLines(s, 'show radius local-server statistics'), /Access-Requests {6}: 0/);
  } finally {
    await fr.stop();
    await env.close();
  }
});

test("a user's slow crypt(3) check does not hold another user's login", async () => {
  const env = await newApp();
  const s = adminSession(env.app);
  // 300 000 rounds: a few hundred milliseconds of CPU, long enough that the order of the answers shows
  // whether the other login waited for it.
  const slowHash = sha512Crypt('slowpw', 'saltsalt', 300_000);
  const probe = await RadiusProbe.open(PORT, 'nassecret');
  try {
    const setup = await runLines(s, 'conf t', 'radius-server local', `server auth-port ${PORT}`, 'nas 127.0.0.1 key nassecret', `user slow password 8 ${slowHash}`, 'user fast password fastpw', 'server enable', 'end');
    assert.doesNotMatch(setup, /%/);
    // fast's password is checked once, then remembered (as after a user's first login of the day).
    assert.equal(await probe.request('fast', 'fastpw'), 'accept');
    const answered: string[] = [];
    const slow = probe.request('slow', 'slowpw', 10_000).then((r) => answered.push(`slow ${r}`));
    const fast = probe.request('fast', 'fastpw', 10_000).then((r) => answered.push(`fast ${r}`));
    await Promise.all([slow, fast]);
    assert.deepEqual(answered, ['fast accept', 'slow accept'], 'the remembered password waited for the slow check');
  } finally {
    probe.close();
    await env.close();
  }
});

test('a local user named as the NAS sends it, as a 2FA user may be (jürgen, DOMAIN\\bob): password and code over RADIUS', async () => {
  const env = await newApp();
  const s = adminSession(env.app);
  try {
    const setup = await runLines(
      s, 'conf t', 'service 2fa', 'radius-server local', `server auth-port ${PORT}`, 'nas 127.0.0.1 key nassecret 2fa', 'user jürgen password jpw', 'user CORP\\bob password bpw', 'server enable', 'end',
      `2fa create user jürgen secret ${SECRET}`,
    );
    assert.doesNotMatch(setup, /^% /m);
    assert.match(await runLines(s, 'show running-config'), /\n user jürgen password 8 \$6\$\S+\n user CORP\\bob password 8 /);
    const code = hotp(base32Decode(SECRET)!, timeStep(env.app.clock.now()));
    assert.equal((await login('jürgen', `SCRV1:${b64('jpw')}:${b64(code)}`)).kind, 'accept');
    assert.doesNotMatch(await runLines(s, 'conf t', 'radius-server local', 'no user jürgen', 'end'), /^% /m);
    assert.doesNotMatch(await runLines(s, 'show running-config'), /jürgen/);
  } finally {
    await env.close();
  }
});

test('a phone whose clock is off is learned over RADIUS (the searches run in worker threads)', async () => {
  const env = await newApp();
  const s = adminSession(env.app);
  const probe = await RadiusProbe.open(PORT, 'nassecret');
  const key = base32Decode(SECRET)!;
  // The phone runs 200 steps (100 minutes) ahead; each attempt comes a step later on the appliance.
  const phoneCode = (step: number) => {
    env.app.clock.set(T0 + step * 30_000);
    return hotp(key, timeStep(T0) + step + 200);
  };
  try {
    const setup = await runLines(s, 'conf t', 'service 2fa', '2fa skew-adjust', 'radius-server local', `server auth-port ${PORT}`, 'nas 127.0.0.1 key nassecret 2fa only', 'server enable', 'end');
    assert.doesNotMatch(setup, /%/);
    await runLines(s, `2fa create user drift secret ${SECRET}`);
    // libpam's rule: three consecutive attempts with agreeing skews; the third is accepted.
    assert.equal(await probe.request('drift', phoneCode(1)), 'reject');
    assert.equal(await probe.request('drift', phoneCode(2)), 'reject');
    assert.equal(await probe.request('drift', phoneCode(3)), 'accept');
    assert.equal(await probe.request('drift', phoneCode(4)), 'accept', 'the learned skew is not applied');
    assert.equal((await env.app.twofa.get('drift'))!.skew, 200);
    assert.ok(env.log.events.some((e) => e.event === '2fa-skew-learned' && e.fields['user'] === 'drift' && e.fields['skew'] === 200));
    assert.deepEqual(
      env.log.events.filter((e) => e.event === '2fa-verify' && e.fields['user'] === 'drift').map((e) => e.fields['reason']),
      ['skew-learning', 'skew-learning', 'ok-skew-learned', 'ok-totp'],
    );
  } finally {
    probe.close();
    await env.close();
  }
});
