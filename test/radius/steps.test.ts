/**
 * Each step of the RADIUS request path (src/radius/pipeline.ts) on its own: what it drops, what it
 * answers, what it hands on. Packets are built with the codec; the login is a recording function.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { LocalUsers } from '../../src/auth/local-users.ts';
import type { LoginDecision, LoginRequest } from '../../src/auth/types.ts';
import { checkMessageAuthenticator, checkResponseAuthenticator, encodeRequest, hidePassword } from '../../src/radius/crypto.ts';
import { DuplicateCache } from '../../src/radius/dedupe.ts';
import { Attr, attr, Code, encodePacket, parsePacket } from '../../src/radius/packet.ts';
import { PIPELINE } from '../../src/radius/pipeline.ts';
import { ServerStats } from '../../src/radius/stats.ts';
import type { RadiusRequest, StepEnv } from '../../src/radius/step.ts';
import { accessRequestsOnly } from '../../src/radius/steps/access-requests-only.ts';
import { decide } from '../../src/radius/steps/decide.ts';
import { duplicates } from '../../src/radius/steps/duplicates.ts';
import { identifyClient } from '../../src/radius/steps/identify-client.ts';
import { messageAuthenticator } from '../../src/radius/steps/message-authenticator.ts';
import { parse } from '../../src/radius/steps/parse.ts';
import { reply } from '../../src/radius/steps/reply.ts';
import { accountingStatusServer, authenticationStatusServer } from '../../src/radius/steps/status-server.ts';
import { userPassword } from '../../src/radius/steps/user-password.ts';
import type { NasEntry, RadiusSettings } from '../../src/radius/types.ts';
import { memoryLog } from '../../src/util/log.ts';
import { checkOnEventLoop } from '../helpers/on-event-loop.ts';

const KEY = 's3cret';
const nas = (over: Partial<NasEntry> = {}): NasEntry => ({ address: '10.0.0.1', key: KEY, twofa: 'on', requireMessageAuthenticator: false, ...over });

function env(over: { nas?: NasEntry[]; decision?: LoginDecision } = {}) {
  const logins: LoginRequest[] = [];
  const settings: RadiusSettings = {
    local: { enabled: true, authPort: 1812, nas: over.nas ?? [nas()], users: new Map() },
    upstream: { timeout: 5, retransmit: 3, deadtime: 0 },
    firstFactor: { kind: 'local' },
    codeInPassword: true,
  };
  let now = 1000;
  const localUsers = new LocalUsers(() => new Map(), checkOnEventLoop);
  const openvpnFirstFactor = { check: async () => ({ answer: 'reject' as const }) };
  const e: StepEnv = {
    settings: () => settings,
    duplicates: new DuplicateCache(),
    stats: new ServerStats(),
    log: memoryLog(),
    now: () => now,
    localUsers,
    openvpnFirstFactor,
    login: async (r) => {
      logins.push(r);
      return over.decision ?? { kind: 'accept', reason: 'ok-totp' };
    },
  };
  return { env: e, logins, advance: (ms: number) => (now += ms), localUsers, openvpnFirstFactor };
}

function request(opts: { password?: string; state?: Buffer; proxyState?: Buffer[]; ma?: boolean; from?: string; port?: number; secret?: string } = {}) {
  const authenticator = randomBytes(16);
  const secret = Buffer.from(opts.secret ?? KEY);
  const attrs = [
    { type: Attr.UserName, value: Buffer.from('alice') },
    { type: Attr.UserPassword, value: hidePassword(Buffer.from(opts.password ?? 'pw'), secret, authenticator) },
    ...(opts.state ? [{ type: Attr.State, value: opts.state }] : []),
    ...(opts.proxyState ?? []).map((value) => ({ type: Attr.ProxyState, value })),
  ];
  const datagram = opts.ma === false ? encodePacket(Code.AccessRequest, 7, authenticator, attrs) : encodeRequest(7, authenticator, attrs, secret);
  return { datagram, authenticator };
}

/** A request after the steps before `upto` ran (each must continue). */
async function through(e: StepEnv, datagram: Buffer, upto: string, from = { address: '10.0.0.1', port: 5000 }): Promise<RadiusRequest> {
  const req: RadiusRequest = { datagram, from, onAnswer: [] };
  for (const [name, step] of PIPELINE) {
    if (name === upto) return req;
    assert.equal((await step(req, e)).kind, 'continue', name);
  }
  return req;
}

test('the table lists the steps in the order of the request path', () => {
  assert.deepEqual(
    PIPELINE.map(([n]) => n),
    ['identify client', 'parse', 'status server', 'access requests only', 'message authenticator', 'duplicates', 'user password', 'decide', 'share decision', 'reply'],
  );
});

test('identify client: an unknown source address is dropped; a known one brings its NAS entry and secret', async () => {
  const { env: e } = env();
  const unknown: RadiusRequest = { datagram: request().datagram, from: { address: '10.0.0.9', port: 1 }, onAnswer: [] };
  assert.deepEqual(await identifyClient(unknown, e), { kind: 'drop', reason: 'unknown-client' });
  const known: RadiusRequest = { datagram: request().datagram, from: { address: '10.0.0.1', port: 1 }, onAnswer: [] };
  assert.equal((await identifyClient(known, e)).kind, 'continue');
  assert.equal(known.nas?.address, '10.0.0.1');
  assert.deepEqual(known.secret, Buffer.from(KEY));
});

test('parse and access requests only: malformed framing and other codes are dropped', async () => {
  const { env: e } = env();
  const short: RadiusRequest = { datagram: Buffer.alloc(10), from: { address: '10.0.0.1', port: 1 }, onAnswer: [] };
  assert.deepEqual(await parse(short, e), { kind: 'drop', reason: 'malformed' });
  const acct = encodePacket(Code.AccountingRequest, 1, randomBytes(16), [{ type: Attr.UserName, value: Buffer.from('a') }]);
  const req = await through(e, acct, 'access requests only');
  assert.deepEqual(await accessRequestsOnly(req, e), { kind: 'drop', reason: 'not-access-request' });
});

test('message authenticator: a wrong one is dropped; a missing one only where the NAS requires it', async () => {
  const { env: e } = env();
  const wrong = await through(e, request({ secret: 'other' }).datagram, 'message authenticator');
  assert.deepEqual(await messageAuthenticator(wrong, e), { kind: 'drop', reason: 'bad-message-authenticator' });
  const none = await through(e, request({ ma: false }).datagram, 'message authenticator');
  assert.equal((await messageAuthenticator(none, e)).kind, 'continue');
  const strict = env({ nas: [nas({ requireMessageAuthenticator: true })] }).env;
  const missing = await through(strict, request({ ma: false }).datagram, 'message authenticator');
  assert.deepEqual(await messageAuthenticator(missing, strict), { kind: 'drop', reason: 'missing-message-authenticator' });
});

test('duplicates: a retransmission in progress is dropped, a finished one gets the recorded reply', async () => {
  const { env: e } = env();
  const { datagram } = request();
  const first = await through(e, datagram, 'duplicates');
  assert.equal((await duplicates(first, e)).kind, 'continue');
  const second = await through(e, datagram, 'duplicates');
  assert.deepEqual(await duplicates(second, e), { kind: 'drop', reason: 'in-progress' });
  const answer = Buffer.from('the reply');
  for (const f of first.onAnswer) f(answer);
  const third = await through(e, datagram, 'duplicates');
  assert.deepEqual(await duplicates(third, e), { kind: 'reply', reply: answer });
  // Another source port is another request.
  const other = await through(e, datagram, 'duplicates', { address: '10.0.0.1', port: 5001 });
  assert.equal((await duplicates(other, e)).kind, 'continue');
  assert.equal(e.stats.duplicates, 1);
  // A retransmission of a dropped request is dropped again, and counted as that drop only.
  const dropped = await through(e, request().datagram, 'duplicates', { address: '10.0.0.1', port: 5002 });
  assert.equal((await duplicates(dropped, e)).kind, 'continue');
  for (const f of dropped.onAnswer) f(undefined);
  assert.deepEqual(await duplicates(await through(e, dropped.datagram, 'duplicates', { address: '10.0.0.1', port: 5002 }), e), { kind: 'drop', reason: 'duplicate-of-dropped' });
  assert.equal(e.stats.duplicates, 1);
});

test('status server: with a Message-Authenticator that verifies, answered at once on either port; without one, dropped; other codes go on', async () => {
  const { env: e } = env({ nas: [nas({ requireMessageAuthenticator: false })] });
  const proxyStates = [Buffer.from('one'), Buffer.from('two')].map((value) => ({ type: Attr.ProxyState, value }));
  const status = (secret = KEY, ma = true) => {
    const authenticator = randomBytes(16);
    const datagram = ma ? encodeRequest(3, authenticator, proxyStates, Buffer.from(secret), Code.StatusServer) : encodePacket(Code.StatusServer, 3, authenticator, proxyStates);
    return { datagram, authenticator };
  };
  const from = { address: '10.0.0.1', port: 5000 };
  for (const [step, code] of [[authenticationStatusServer, Code.AccessAccept], [accountingStatusServer, Code.AccountingResponse]] as const) {
    const sent = status();
    const r = await step(await through(e, sent.datagram, 'status server', from), e);
    assert.equal(r.kind, 'reply');
    if (r.kind !== 'reply') return;
    const p = parsePacket(r.reply);
    assert.equal(p.code, code);
    assert.equal(checkResponseAuthenticator(p, sent.authenticator, Buffer.from(KEY)), true);
    assert.deepEqual(p.attributes.filter((a) => a.type === Attr.ProxyState).map((a) => a.value.toString()), ['one', 'two']);
    // Message-Authenticator first in an Access-Accept, as in every answer on that port.
    assert.equal(p.attributes[0]!.type === Attr.MessageAuthenticator, code === Code.AccessAccept);
    assert.equal(checkMessageAuthenticator(p, Buffer.from(KEY), sent.authenticator), code === Code.AccessAccept ? true : undefined);
    // Even a NAS that need not send a Message-Authenticator must send one with Status-Server (RFC 5997).
    assert.deepEqual(await step(await through(e, status(KEY, false).datagram, 'status server', from), e), { kind: 'drop', reason: 'missing-message-authenticator' });
    assert.deepEqual(await step(await through(e, status('other').datagram, 'status server', from), e), { kind: 'drop', reason: 'bad-message-authenticator' });
    assert.equal((await step(await through(e, request().datagram, 'status server', from), e)).kind, 'continue');
  }
  assert.equal(e.stats.statusServer, 2);
  assert.equal(e.stats.requests, 0);
});

test('user password: un-hidden with the secret; a request without one is dropped', async () => {
  const { env: e } = env();
  const req = await through(e, request({ password: 'SCRV1:abc:def' }).datagram, 'user password');
  assert.equal((await userPassword(req, e)).kind, 'continue');
  assert.equal(req.password?.toString(), 'SCRV1:abc:def');
  const bare = encodeRequest(8, randomBytes(16), [{ type: Attr.UserName, value: Buffer.from('a') }], Buffer.from(KEY));
  const noPassword = await through(e, bare, 'user password');
  assert.deepEqual(await userPassword(noPassword, e), { kind: 'drop', reason: 'bad-password-attribute' });
});

test('decide: the NAS entry picks the mode and the first factor; State answers a challenge', async () => {
  const plain = env({ nas: [nas({ twofa: 'off' })] });
  await decide(await through(plain.env, request().datagram, 'decide'), plain.env);
  assert.equal(plain.logins[0]!.mode, 'off');
  assert.equal(plain.logins[0]!.firstFactor, plain.localUsers);
  const twofa = env();
  const state = randomBytes(16);
  const req = await through(twofa.env, request({ state, password: '123456' }).datagram, 'decide');
  await decide(req, twofa.env);
  const r = twofa.logins[0]!;
  assert.deepEqual([r.user, r.mode, r.client, r.codeInPassword, r.password.toString()], ['alice', 'on', '10.0.0.1', true, '123456']);
  assert.deepEqual(r.challenge, state);
  assert.equal(r.firstFactor, twofa.openvpnFirstFactor);
  assert.equal(twofa.env.stats.accepts, 1);
});

test('reply: Message-Authenticator first, challenge attributes, every Proxy-State echoed in order', async () => {
  const token = randomBytes(16);
  const { env: e } = env({ decision: { kind: 'challenge', reason: 'challenge', token, prompt: 'Enter your verification code' } });
  const sent = request({ proxyState: [Buffer.from('one'), Buffer.from('two')] });
  const req = await through(e, sent.datagram, 'reply');
  const r = await reply(req, e);
  assert.equal(r.kind, 'reply');
  if (r.kind !== 'reply') return;
  const p = parsePacket(r.reply);
  assert.equal(p.code, Code.AccessChallenge);
  assert.equal(p.attributes[0]!.type, Attr.MessageAuthenticator);
  assert.equal(checkMessageAuthenticator(p, Buffer.from(KEY), sent.authenticator), true);
  assert.equal(checkResponseAuthenticator(p, sent.authenticator, Buffer.from(KEY)), true);
  assert.deepEqual(attr(p, Attr.State), token);
  assert.equal(attr(p, Attr.ReplyMessage)?.toString(), 'Enter your verification code');
  assert.deepEqual(p.attributes.filter((a) => a.type === Attr.ProxyState).map((a) => a.value.toString()), ['one', 'two']);
});
