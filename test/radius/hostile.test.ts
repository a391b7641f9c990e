/**
 * Hostile RADIUS input found by an adversarial run (issue #17), replayed through a real appliance's
 * RadiusServer.handle() on a stopped clock: Message-Authenticator attributes of the wrong length or
 * number (RFC 3579 §3.2), replies that cannot carry their Proxy-State back (RFC 2865 §3, §5.33), the
 * duplicate cache under 4 KB replies (RFC 5080 §2.2.2), and drops flooding the audit log.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hidePassword } from '../../src/radius/crypto.ts';
import { DEFAULT_BUDGET, DuplicateCache } from '../../src/radius/dedupe.ts';
import { Attr, Code, encodePacket, parsePacket, type Attribute } from '../../src/radius/packet.ts';
import { RadiusServer } from '../../src/radius/server.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { memoryLog } from '../../src/util/log.ts';
import { adminSession, newApp, runLines } from '../helpers/app.ts';

const KEY = Buffer.from('s3cret');
const NAS = { address: '10.0.0.1', port: 40000 };
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

async function appliance() {
  const env = await newApp();
  const out = await runLines(
    adminSession(env.app),
    'conf t',
    'service 2fa',
    'radius-server local',
    'nas 10.0.0.1 key s3cret 2fa',
    'user alice password alicepw',
    'server enable',
    'end',
    `2fa create user alice secret ${SECRET}`,
  );
  assert.ok(!/^% /m.test(out), out);
  const code = (offset = 0) => hotp(base32Decode(SECRET)!, timeStep(env.app.clock.now()) + offset);
  return { ...env, code };
}

const scrv1 = (password: string, code: string) => `SCRV1:${Buffer.from(password).toString('base64')}:${Buffer.from(code).toString('base64')}`;

/**
 * An Access-Request whose Message-Authenticator attributes are `ma` (each a value length; the first is
 * computed over the packet as RFC 3579 §3.2 says, with every other one as given), and more attributes.
 */
function request(password: string, o: { ma?: number[]; extra?: Attribute[]; id?: number } = {}): Buffer {
  const authenticator = randomBytes(16);
  const mas = (o.ma ?? [16]).map((len) => ({ type: Attr.MessageAuthenticator, value: len === 16 ? Buffer.alloc(16) : randomBytes(len) }));
  const attrs: Attribute[] = [
    ...mas,
    { type: Attr.UserName, value: Buffer.from('alice') },
    { type: Attr.UserPassword, value: hidePassword(Buffer.from(password), KEY, authenticator) },
    ...(o.extra ?? []),
  ];
  const pkt = encodePacket(Code.AccessRequest, o.id ?? 7, authenticator, attrs);
  if (mas.length) {
    // The first MA's first 16 octets hold the HMAC of the packet as it is with those 16 zeroed: a
    // verifier that reads 16 octets and ignores the rest (or the second MA) is fooled by it.
    const zeroed = Buffer.from(pkt);
    zeroed.fill(0, 22, 22 + Math.min(16, mas[0]!.value.length));
    createHmac('md5', KEY).update(zeroed).digest().subarray(0, Math.min(16, mas[0]!.value.length)).copy(pkt, 22);
  }
  return pkt;
}

test('Message-Authenticator: exactly one, of 18 octets, or the request is dropped unanswered (RFC 3579 §3.2)', async () => {
  const { app, log, code, close } = await appliance();
  try {
    const cases: [string, number[]][] = [
      ['a second Message-Authenticator', [16, 16]],
      ['a 20-octet value whose first 16 octets verify', [20]],
      ['a 14-octet value', [14]],
      ['an empty value', [0]],
    ];
    for (const [what, ma] of cases) {
      const before = app.radius.server.stats.drops.get('bad-message-authenticator') ?? 0;
      const reply = await app.radius.server.handle(request(scrv1('alicepw', code()), { ma }), NAS);
      assert.equal(reply, undefined, `${what}: answered`);
      assert.equal(app.radius.server.stats.drops.get('bad-message-authenticator'), before + 1, `${what}: not counted as a bad Message-Authenticator`);
    }
    assert.equal(log.events.filter((e) => e.event === 'radius-auth').length, 0, 'a dropped request reached the login decision');
    // The code was never spent: the same code in a well-formed request is accepted.
    const good = await app.radius.server.handle(request(scrv1('alicepw', code())), NAS);
    assert.equal(good && parsePacket(good).code, Code.AccessAccept, 'a well-formed request with the same code is not accepted');
  } finally {
    await close();
  }
});

test('a reply that cannot carry its Proxy-State back is a counted drop, not an internal error (RFC 2865 §3, §5.33)', async () => {
  const { app, log, code, close } = await appliance();
  try {
    // 16 Proxy-States of 249 octets: 4 016 octets to echo. The password alone asks for a challenge,
    // whose Reply-Message and State no longer fit in 4 096 octets.
    const big = Array.from({ length: 16 }, () => ({ type: Attr.ProxyState, value: randomBytes(249) }));
    for (let i = 0; i < 3; i++) {
      const reply = await app.radius.server.handle(request('alicepw', { extra: big, id: i }), NAS);
      assert.equal(reply, undefined, 'an oversized reply was sent');
    }
    assert.equal(app.radius.server.stats.drops.get('reply-too-large'), 3, 'not counted as reply-too-large');
    assert.equal(log.events.filter((e) => e.level === 'error').length, 0, `logged as an error: ${JSON.stringify(log.events.filter((e) => e.level === 'error'))}`);
    // An Accept always fits: the same Proxy-States come back, every one, in order.
    const reply = await app.radius.server.handle(request(scrv1('alicepw', code()), { extra: big, id: 9 }), NAS);
    assert.ok(reply, 'no reply to an accepted request with 4 016 octets of Proxy-State');
    const p = parsePacket(reply);
    assert.equal(p.code, Code.AccessAccept, 'not accepted');
    assert.deepEqual(
      p.attributes.filter((a) => a.type === Attr.ProxyState).map((a) => a.value),
      big.map((a) => a.value),
      'Proxy-State not echoed in order',
    );
  } finally {
    await close();
  }
});

test('the duplicate cache is bounded in bytes: 4 KB replies never take more than its budget (RFC 5080 §2.2.2)', async () => {
  const budget = 1024 * 1024;
  const server = new RadiusServer(
    {
      settings: () => ({
        local: { enabled: true, authPort: 1812, nas: [{ address: NAS.address, key: 's3cret', twofa: 'off', requireMessageAuthenticator: false }], users: new Map() },
        upstream: { timeout: 5, retransmit: 3, deadtime: 0 },
        firstFactor: { kind: 'local' },
        codeInPassword: false,
      }),
      login: async () => ({ kind: 'reject', reason: 'bad-password' }),
      now: () => 0,
      localUsers: { check: async () => ({ answer: 'reject' as const }) },
      openvpnFirstFactor: { check: async () => ({ answer: 'reject' as const }) },
    },
    memoryLog(),
    { duplicateBudget: budget },
  );
  // Proxy-States of 3 500 octets: each reply is ~3.5 KB, 2 000 of them ~7 MB.
  const ps = Array.from({ length: 14 }, () => ({ type: Attr.ProxyState, value: randomBytes(248) }));
  let last: Buffer | undefined;
  let lastReply: Buffer | undefined;
  for (let i = 0; i < 2000; i++) {
    last = request('pw', { extra: ps, id: i & 0xff });
    lastReply = await server.handle(last, { address: NAS.address, port: 1000 + i });
    assert.ok(lastReply && lastReply.length > 3500, `request ${i} got no full reply`);
    assert.ok(server.duplicates.bytes <= budget, `the cache holds ${server.duplicates.bytes} bytes after ${i + 1} requests, over its budget of ${budget}`);
  }
  assert.ok(server.duplicates.size > 100, `only ${server.duplicates.size} replies kept: the budget is not used`);
  // The newest is still there: its retransmission gets the same bytes without a second decision.
  assert.deepEqual(await server.handle(last!, { address: NAS.address, port: 1000 + 1999 }), lastReply, 'a retransmission of the newest request got another answer');
  assert.equal(server.stats.duplicates, 1, 'the retransmission was decided again');
});

test('the default duplicate-cache budget holds 100 000 ordinary replies but only tens of megabytes of large ones', () => {
  const cache = new DuplicateCache();
  const reply = randomBytes(4000);
  for (let i = 0; i < 20_000; i++) {
    const key = DuplicateCache.key('10.0.0.1', i, i & 0xff, randomBytes(16));
    cache.begin(key, 0);
    cache.finish(key, reply, 0);
  }
  assert.ok(cache.bytes <= DEFAULT_BUDGET, `${cache.bytes} bytes held, budget ${DEFAULT_BUDGET}`);
  const small = new DuplicateCache();
  const ok = randomBytes(40);
  for (let i = 0; i < 100_000; i++) {
    const key = DuplicateCache.key('10.0.0.1', i, i & 0xff, randomBytes(16));
    small.begin(key, 0);
    small.finish(key, ok, 0);
  }
  assert.equal(small.size, 100_000, `ordinary replies evicted under the default budget: ${small.size} kept`);
});

test('dropped datagrams are counted and summarised once per interval; a flood of them leaves logins in show log', async () => {
  const { app, log, code, close } = await appliance();
  try {
    const accepted = await app.radius.server.handle(request(scrv1('alicepw', code())), NAS);
    assert.equal(accepted && parsePacket(accepted).code, Code.AccessAccept, 'the login before the flood was not accepted');
    const flood = request(scrv1('alicepw', code(1)));
    for (let i = 0; i < 3000; i++) await app.radius.server.handle(flood, { address: `192.0.2.${i % 250}`, port: 1000 + i });
    for (let i = 0; i < 1000; i++) await app.radius.server.handle(randomBytes(40), NAS);
    for (let i = 0; i < 2000; i++) app.log.info('login-failed', { user: `guess${i}`, via: 'ssh', address: '192.0.2.7', reason: 'bad-password' });
    assert.equal(app.radius.server.stats.drops.get('unknown-client'), 3000, 'unknown clients not counted');
    assert.equal(app.radius.server.stats.drops.get('malformed'), 1000, 'malformed datagrams not counted');
    assert.equal(log.events.filter((e) => e.event.startsWith('radius-drop')).length, 0, 'drops were logged one by one');
    app.radius.server.flushDropSummary();
    const summaries = log.events.filter((e) => e.event === 'radius-drops');
    assert.equal(summaries.length, 1, 'not one summary for the interval');
    const s = summaries[0]!.fields;
    assert.equal(s['total'], 4000, 'summary total');
    assert.equal(s['reasons'], 'malformed=1000 unknown-client=3000', 'summary reasons');
    const sources = String(s['sources']).split(' ').map((w) => w.split('='));
    assert.deepEqual(sources[0], ['10.0.0.1', '1000'], 'the busiest source is not named first');
    assert.equal(sources.length, 5, 'not the 5 busiest sources');
    assert.equal(s['fromOthers'], 4000 - sources.reduce((n, [, c]) => n + Number(c), 0), 'fromOthers');
    // show log still has the login, although 2 001 bulk events came after it.
    const shown = await runLines(adminSession(app), 'show log');
    assert.match(shown, /radius-auth user=alice .*result=accept/, 'the accepted login was evicted from show log by noise');
    assert.match(shown, /radius-drops total=4000/, 'the drop summary is not in show log');
    assert.ok(shown.split('\n').filter((l) => l.includes('login-failed')).length <= 500, 'the bulk ring is not bounded');
  } finally {
    await close();
  }
});
