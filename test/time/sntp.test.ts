/**
 * The SNTP client (RFC 4330): timestamp arithmetic across the NTP era boundary, a real chronyd on
 * 127.0.0.1 and ::1 (synchronised and not), and crafted hostile replies from a fake server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  clientPacket,
  evaluateReply,
  fromNtpTimestamp,
  kissCode,
  ntpDiffMs,
  parseNtpPacket,
  SntpError,
  sntpQuery,
  toNtpTimestamp,
  type SntpFailure,
} from '../../src/time/sntp.ts';
import { startChrony, type Chrony } from '../helpers/chrony.ts';
import { freeUdpPort } from '../helpers/daemon.ts';
import { FakeNtp, reply, type ReplyFields } from '../helpers/fake-ntp.ts';

/** 2036-02-07T06:28:16Z: NTP era 0 ends, the 32-bit seconds field wraps to 0 (RFC 5905 §6). */
const ERA1 = Date.UTC(2036, 1, 7, 6, 28, 16);

/**
 * The measured offset is within half the round-trip delay of the truth (RFC 5905 §8: the true offset
 * lies in θ ± δ/2), plus 5 ms for the millisecond clock and the server's timestamp placement.
 */
function nearly(offsetMs: number, expected: number, delayMs: number): void {
  assert.ok(Math.abs(offsetMs - expected) <= Math.max(0, delayMs) / 2 + 5, `offset ${offsetMs} ms, expected ${expected} ± ${delayMs / 2} ms`);
}

async function rejection(p: Promise<unknown>): Promise<SntpError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SntpError, `not an SntpError: ${e}`);
    return e;
  }
  assert.fail('the query succeeded');
}

describe('NTP timestamps', () => {
  test('the Unix epoch is 2208988800 s after the NTP epoch; fractions are 1/2^32 s', () => {
    assert.equal(toNtpTimestamp(0), 2208988800n << 32n);
    assert.equal(toNtpTimestamp(500) & 0xffffffffn, 0x80000000n);
    assert.equal(fromNtpTimestamp(toNtpTimestamp(1_700_000_000_250), 1_700_000_000_000), 1_700_000_000_250);
  });

  test('era 1: seconds wrap at 2036-02-07 and the era follows the pivot', () => {
    assert.equal(toNtpTimestamp(ERA1) >> 32n, 0n);
    assert.equal(toNtpTimestamp(ERA1 - 1000) >> 32n, 0xffffffffn);
    const later = ERA1 + 5000;
    assert.equal(fromNtpTimestamp(toNtpTimestamp(later), ERA1), later);
    assert.equal(fromNtpTimestamp(toNtpTimestamp(ERA1 - 5000), ERA1 + 10_000), ERA1 - 5000);
  });

  test('differences are signed and right across the era boundary', () => {
    assert.equal(ntpDiffMs(toNtpTimestamp(ERA1 + 1500), toNtpTimestamp(ERA1 - 500)), 2000);
    assert.equal(ntpDiffMs(toNtpTimestamp(ERA1 - 500), toNtpTimestamp(ERA1 + 1500)), -2000);
  });

  test('offset and delay from the four timestamps (RFC 4330 §5)', () => {
    // Server 10 s ahead; 40 ms out, 20 ms in the server, 60 ms back: θ = ((T2−T1)+(T3−T4))/2, δ = 100 ms.
    const t1 = 1_800_000_000_000;
    const t2 = t1 + 10_000 + 40;
    const t3 = t2 + 20;
    const t4 = t1 + 40 + 20 + 60;
    const p = parseNtpPacket(reply(clientPacket(1n), { receive: toNtpTimestamp(t2), transmit: toNtpTimestamp(t3), originate: 1n }))!;
    const s = evaluateReply(p, t1, t4);
    assert.ok(Math.abs(s.offsetMs - (10_000 - 10)) < 0.001, String(s.offsetMs));
    assert.ok(Math.abs(s.delayMs - 100) < 0.001, String(s.delayMs));
    assert.equal(s.referenceId, '10.0.0.1');
  });

  test('kiss codes are printable ASCII only', () => {
    assert.equal(kissCode(Buffer.from('RATE')), 'RATE');
    assert.equal(kissCode(Buffer.from('GPS\0', 'latin1')), 'GPS');
    assert.equal(kissCode(Buffer.from([0, 0, 0, 0])), undefined);
    assert.equal(kissCode(Buffer.from([0xff, 0x41, 0x41, 0x41])), undefined);
  });
});

describe('against chronyd', () => {
  let chrony: Chrony;
  before(async () => {
    chrony = await startChrony();
  });
  after(() => chrony?.stop());

  test('IPv4: offset near 0, stratum 8 (its `local stratum`), the local reference 127.127.1.1', async () => {
    const s = await sntpQuery({ address: '127.0.0.1', port: chrony.port, now: Date.now, timeoutMs: 2000 });
    nearly(s.offsetMs, 0, s.delayMs);
    assert.ok(s.delayMs >= -1 && s.delayMs < 1000, `delay ${s.delayMs} ms`);
    assert.equal(s.stratum, 8);
    assert.equal(s.leap, 0);
    assert.equal(s.referenceId, '127.127.1.1');
    assert.ok(Math.abs(s.serverTime - Date.now()) < 1000);
  });

  test('IPv6 ::1', async () => {
    const s = await sntpQuery({ address: '::1', port: chrony.port, now: Date.now });
    nearly(s.offsetMs, 0, s.delayMs);
    assert.equal(s.stratum, 8);
  });

  test('a local clock one hour slow measures an offset of +1 h', async () => {
    const s = await sntpQuery({ address: '127.0.0.1', port: chrony.port, now: () => Date.now() - 3_600_000 });
    nearly(s.offsetMs, 3_600_000, s.delayMs);
  });

  test('the local time as transmit timestamp works too', async () => {
    const s = await sntpQuery({ address: '127.0.0.1', port: chrony.port, now: Date.now, localTransmit: true });
    nearly(s.offsetMs, 0, s.delayMs);
  });

  test('the offset bound rejects a far-off answer', async () => {
    const e = await rejection(sntpQuery({ address: '127.0.0.1', port: chrony.port, now: () => Date.now() - 7_200_000, maxOffsetMs: 1_000_000 }));
    assert.equal(e.reason, 'implausible-offset');
  });
});

test('chronyd without a reference answers unsynchronised (LI 3, stratum 0): rejected', async () => {
  const chrony = await startChrony({ local: false });
  try {
    const e = await rejection(sntpQuery({ address: '127.0.0.1', port: chrony.port, now: Date.now }));
    assert.equal(e.reason, 'unsynchronised');
  } finally {
    await chrony.stop();
  }
});

describe('hostile and broken replies (fake server)', () => {
  let fake: FakeNtp;
  before(async () => {
    fake = await FakeNtp.start(() => undefined);
  });
  after(() => fake?.close());

  const ask = (extra: { timeoutMs?: number; maxOffsetMs?: number; notBefore?: number } = {}) =>
    sntpQuery({ address: fake.address, port: fake.port, now: Date.now, timeoutMs: 300, ...extra });
  const answering = (f: ReplyFields) => (fake.respond = (req) => reply(req, f));

  test('a well-formed answer is accepted', async () => {
    answering({ offsetMs: 5000 });
    const s = await ask();
    nearly(s.offsetMs, 5000, s.delayMs);
    assert.equal(s.stratum, 2);
  });

  for (const code of ['RATE', 'DENY', 'RSTR']) {
    test(`kiss-o'-death ${code} is rejected with its code`, async () => {
      answering({ stratum: 0, refid: code, leap: 3 });
      const e = await rejection(ask());
      assert.equal(e.reason, 'kiss-o-death');
      assert.equal(e.kissCode, code);
    });
  }

  const cases: [string, ReplyFields, SntpFailure][] = [
    ['leap indicator 3', { leap: 3 }, 'unsynchronised'],
    ['stratum 0 without a kiss code', { stratum: 0, refid: Buffer.alloc(4) }, 'bad-stratum'],
    ['stratum 16', { stratum: 16 }, 'bad-stratum'],
    ['a zero transmit timestamp', { transmit: 0n }, 'zero-timestamp'],
    ['a zero receive timestamp', { receive: 0n }, 'zero-timestamp'],
    ['a server time in 1970', { offsetMs: -Date.now() + 1000 }, 'implausible-time'],
  ];
  for (const [what, fields, reason] of cases) {
    test(`${what} is rejected (${reason})`, async () => {
      answering(fields);
      const e = await rejection(ask({ notBefore: Date.UTC(2024, 0, 1) }));
      assert.equal(e.reason, reason, e.message);
    });
  }

  const discarded: [string, ReplyFields, SntpFailure][] = [
    ['a forged originate timestamp', { originate: 0x1234n }, 'originate-mismatch'],
    ['mode 3 (a reflected request)', { mode: 3 }, 'wrong-mode'],
    ['a 40-octet datagram', { length: 40 }, 'bad-packet'],
    ['version 0', { version: 0 }, 'bad-packet'],
  ];
  for (const [what, fields, reason] of discarded) {
    test(`${what} is discarded and the wait ends in ${reason}`, async () => {
      answering(fields);
      const t0 = performance.now();
      const e = await rejection(ask());
      assert.equal(e.reason, reason, e.message);
      assert.ok(performance.now() - t0 >= 250, 'waited for a better answer until the timeout');
    });
  }

  test('a forged reply arriving first does not cut off the real one', async () => {
    fake.respond = (req) => [reply(req, { originate: 42n, offsetMs: 999_999 }), reply(req, { offsetMs: 1000 })];
    const s = await ask();
    nearly(s.offsetMs, 1000, s.delayMs);
  });

  test('a silent server times out within the bound', async () => {
    fake.respond = () => undefined;
    const t0 = performance.now();
    const e = await rejection(ask({ timeoutMs: 200 }));
    assert.equal(e.reason, 'timeout');
    assert.ok(performance.now() - t0 < 1000);
  });

  test('abort ends the wait at once', async () => {
    fake.respond = () => undefined;
    const ctl = new AbortController();
    const t0 = performance.now();
    const p = sntpQuery({ address: fake.address, port: fake.port, now: Date.now, timeoutMs: 5000, signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    const e = await rejection(p);
    assert.equal(e.reason, 'aborted');
    assert.ok(performance.now() - t0 < 1000);
  });

  test('a port nobody listens on is refused at once (ICMP port unreachable), IPv4 and IPv6', async () => {
    const port = await freeUdpPort();
    for (const address of ['127.0.0.1', '::1']) {
      const t0 = performance.now();
      const e = await rejection(sntpQuery({ address, port, now: Date.now, timeoutMs: 5000 }));
      assert.equal(e.reason, 'network');
      assert.match(e.message, /refused/);
      assert.ok(performance.now() - t0 < 1000);
    }
  });

  test('not an IP address: a network error, nothing sent', async () => {
    const e = await rejection(sntpQuery({ address: 'ntp.example', now: Date.now }));
    assert.equal(e.reason, 'network');
  });
});
