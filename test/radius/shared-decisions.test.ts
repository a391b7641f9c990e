/**
 * Decisions shared between appliances (SPEC §16; RFC 5080 §2.2.2 across servers), step by step with a
 * table in memory standing in for the shared store: without a table the duplicate step is what it was;
 * with one, a request is claimed and its decision recorded before the reply step, another appliance's
 * decision is answered (encoded with this appliance's secret), one being decided elsewhere is dropped,
 * and a table that cannot answer leaves the request to be decided here.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { LocalUsers } from '../../src/auth/local-users.ts';
import type { LoginDecision } from '../../src/auth/types.ts';
import { checkResponseAuthenticator, encodeRequest, hidePassword } from '../../src/radius/crypto.ts';
import { DuplicateCache } from '../../src/radius/dedupe.ts';
import { Attr, Code, parsePacket } from '../../src/radius/packet.ts';
import { RadiusServer } from '../../src/radius/server.ts';
import { decodeDecision, encodeDecision, type SharedClaim, type SharedDecisionKey, type SharedDecisions } from '../../src/radius/shared-decisions.ts';
import { ServerStats } from '../../src/radius/stats.ts';
import type { StepEnv } from '../../src/radius/step.ts';
import { duplicates } from '../../src/radius/steps/duplicates.ts';
import type { NasEntry, RadiusSettings } from '../../src/radius/types.ts';
import { memoryLog } from '../../src/util/log.ts';
import { checkOnEventLoop } from '../helpers/on-event-loop.ts';

const KEY = 's3cret';

/** The shared table as a map; `fail` makes it refuse (the store away). */
class MemoryTable implements SharedDecisions {
  readonly rows = new Map<string, { digest: string; decision: unknown }>();
  fail = false;
  claims = 0;
  private id = (k: SharedDecisionKey) => `${k.client}|${k.request.toString('hex')}`;
  async claim(k: SharedDecisionKey): Promise<SharedClaim> {
    this.claims++;
    if (this.fail) throw new Error('store away');
    const row = this.rows.get(this.id(k));
    if (!row) {
      this.rows.set(this.id(k), { digest: k.digest.toString('hex'), decision: null });
      return { kind: 'claimed' };
    }
    if (row.digest !== k.digest.toString('hex')) return { kind: 'different' };
    return row.decision === null ? { kind: 'in-progress' } : { kind: 'done', decision: row.decision };
  }
  async record(k: SharedDecisionKey, decision: unknown): Promise<void> {
    if (this.fail) throw new Error('store away');
    if (decision === undefined) this.rows.delete(this.id(k));
    else this.rows.get(this.id(k))!.decision = decision;
  }
}

function server(table: SharedDecisions | undefined, twofa: NasEntry['twofa'] = 'only', decision: LoginDecision = { kind: 'accept', reason: 'ok-totp' }) {
  const settings: RadiusSettings = {
    local: { enabled: true, authPort: 1812, nas: [{ address: '10.0.0.1', key: KEY, twofa, requireMessageAuthenticator: false }], users: new Map() },
    upstream: { timeout: 5, retransmit: 3, deadtime: 0 },
    firstFactor: { kind: 'local' },
    codeInPassword: false,
  };
  let logins = 0;
  const s = new RadiusServer(
    {
      settings: () => settings,
      now: () => 1000,
      localUsers: new LocalUsers(() => new Map(), checkOnEventLoop),
      openvpnFirstFactor: { check: async () => ({ answer: 'reject' as const }) },
      login: async () => {
        logins++;
        return decision;
      },
      sharedDecisions: table && (() => table),
    },
    memoryLog(),
  );
  return { s, logins: () => logins };
}

function request() {
  const authenticator = randomBytes(16);
  const secret = Buffer.from(KEY);
  const datagram = encodeRequest(9, authenticator, [
    { type: Attr.UserName, value: Buffer.from('alice') },
    { type: Attr.UserPassword, value: hidePassword(Buffer.from('123456'), secret, authenticator) },
  ], secret);
  return { datagram, authenticator };
}

const from = { address: '10.0.0.1', port: 5000 };

test('without a shared table the duplicate step stays synchronous and asks nobody', () => {
  const e = { duplicates: new DuplicateCache(), stats: new ServerStats(), now: () => 0 } as unknown as StepEnv;
  const { datagram } = request();
  const req = { datagram, from, onAnswer: [], nas: { address: '10.0.0.1', key: KEY, twofa: 'on' as const, requireMessageAuthenticator: false }, packet: parsePacket(datagram) };
  const r = duplicates(req, e);
  assert.ok(!(r instanceof Promise), 'the embedded path does not wait for anything');
  assert.deepEqual(r, { kind: 'continue' });
});

test('a retransmission decided by another appliance gets its decision, encoded here; decided here, it is recorded before the reply', async () => {
  const table = new MemoryTable();
  const a = server(table);
  const b = server(table);
  const { datagram, authenticator } = request();
  const first = await a.s.handle(datagram, from);
  assert.equal(first?.[0], Code.AccessAccept);
  assert.deepEqual([...table.rows.values()].map((r) => r.decision), [{ kind: 'accept', reason: 'ok-totp' }], 'recorded with the answer');
  const again = await b.s.handle(datagram, { ...from, port: 6000 });
  assert.equal(b.logins(), 0, 'not a second evaluation');
  assert.ok(again && checkResponseAuthenticator(parsePacket(again), authenticator, Buffer.from(KEY)), 'a valid Accept from the other appliance');
  assert.equal(again[0], Code.AccessAccept);
  assert.equal(b.s.stats.duplicates, 1);
});

test('being decided on another appliance: dropped (the NAS retries); another request under the same key: decided here', async () => {
  const table = new MemoryTable();
  const b = server(table);
  const { datagram } = request();
  const p = parsePacket(datagram);
  table.rows.set(`10.0.0.1|${Buffer.concat([Buffer.of(p.identifier), p.authenticator]).toString('hex')}`, { digest: 'other', decision: null });
  // The digest differs: another request that reuses Identifier and Authenticator is not answered from the table.
  assert.equal((await b.s.handle(datagram, from))?.[0], Code.AccessAccept);
  assert.equal(b.logins(), 1);

  const c = server(table);
  const { datagram: d2 } = request();
  const p2 = parsePacket(d2);
  table.rows.set(`10.0.0.1|${Buffer.concat([Buffer.of(p2.identifier), p2.authenticator]).toString('hex')}`, { digest: createHash('sha256').update(d2).digest('hex'), decision: null });
  assert.equal(await c.s.handle(d2, from), undefined, 'dropped while another appliance decides');
  assert.equal(c.s.stats.drops.get('in-progress'), 1);
});

test('the table away: decided here; a plain NAS entry never asks the table', async () => {
  const table = new MemoryTable();
  table.fail = true;
  const a = server(table);
  assert.equal((await a.s.handle(request().datagram, from))?.[0], Code.AccessAccept);
  assert.equal(a.logins(), 1);
  const plain = new MemoryTable();
  const p = server(plain, 'off', { kind: 'reject', reason: 'bad-password' });
  assert.equal((await p.s.handle(request().datagram, from))?.[0], Code.AccessReject);
  assert.equal(plain.claims, 0);
});

test('decisions go through the table and back; anything else is not taken for one', () => {
  const decisions: LoginDecision[] = [
    { kind: 'accept', reason: 'ok-scratch' },
    { kind: 'reject', reason: 'mail-rate-limited', message: 'wait' },
    { kind: 'reject', reason: 'reused' },
    { kind: 'challenge', reason: 'challenge', token: Buffer.from('00ff10', 'hex'), prompt: 'Enter your verification code' },
  ];
  for (const d of decisions) assert.deepEqual(decodeDecision(JSON.parse(JSON.stringify(encodeDecision(d)))), d);
  for (const junk of [null, 1, 'accept', {}, { kind: 'accept' }, { kind: 'challenge', reason: 'x', token: 'zz', prompt: 'p' }, { kind: 'maybe', reason: 'x' }]) {
    assert.equal(decodeDecision(junk), undefined, JSON.stringify(junk));
  }
});
