/**
 * The `ntp server` poller: it steers an ApplianceClock that starts an hour wrong to the time of a real
 * chronyd, passes over servers that do not answer, obeys kiss-o'-death codes, loses sync after N
 * failed polls, follows configuration changes, and stops without leaving a timer or a socket behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NtpClient, reachText, type SteerableClock } from '../../src/time/ntp-client.ts';
import { ApplianceClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';
import { startChrony, type Chrony } from '../helpers/chrony.ts';
import { FakeNtp, reply } from '../helpers/fake-ntp.ts';

const HOUR = 3_600_000;

/** Waits (bounded) until `cond` holds. */
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Open UDP sockets of this process, counted once closes already under way have completed. */
async function udpHandles(): Promise<number> {
  await new Promise((r) => setTimeout(r, 20));
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
}

describe('NtpClient', () => {
  let chrony: Chrony;
  let silent: FakeNtp;
  before(async () => {
    [chrony, silent] = await Promise.all([startChrony(), FakeNtp.start(() => undefined)]);
  });
  after(async () => {
    await chrony?.stop();
    await silent?.close();
  });

  test('steers a clock that starts one hour wrong to the server, past a server that does not answer', async () => {
    const clock = new ApplianceClock(HOUR);
    const log = memoryLog();
    const ntp = new NtpClient({ clock, log, timeoutMs: 300 });
    ntp.apply([
      { address: '127.0.0.1', port: silent.port },
      { address: '127.0.0.1', port: chrony.port },
    ]);
    assert.equal(ntp.status().synchronised, false);
    await ntp.pollNow();
    const st = ntp.status();
    assert.equal(st.synchronised, true);
    assert.equal(st.server, '127.0.0.1');
    assert.equal(st.port, chrony.port);
    assert.equal(st.stratum, 9, 'one more than chrony’s local stratum 8');
    assert.equal(st.referenceId, '127.127.1.1');
    assert.ok(Math.abs(st.offsetMs! + HOUR) <= st.delayMs! / 2 + 5, `measured offset ${st.offsetMs}`);
    assert.ok(Math.abs(clock.now() - Date.now()) < 1000, `clock now ${clock.now() - Date.now()} ms off`);
    assert.ok(Math.abs(st.lastSync! - Date.now()) < 1000);

    const [dead, good] = ntp.associations();
    assert.equal(dead!.selected, false);
    assert.equal(dead!.reach, 0);
    assert.equal(dead!.lastFailure, 'timeout');
    assert.equal(good!.selected, true);
    assert.ok(Math.abs(good!.lastAnswer! - clock.now()) < 1000, `last answer ${clock.now() - good!.lastAnswer!} ms ago: dated on the clock after the step`);
    assert.equal(reachText(good!.reach), '1');
    assert.equal(good!.stratum, 8);
    assert.equal(good!.state, 'ok');
    assert.deepEqual(log.events.map((e) => e.event), ['ntp-synchronised']);
    assert.equal(log.events[0]!.fields.stratum, 9);
    await ntp.stop();
  });

  test('IPv6 server', async () => {
    const clock = new ApplianceClock(-HOUR);
    const ntp = new NtpClient({ clock });
    ntp.apply([{ address: '::1', port: chrony.port }]);
    await ntp.pollNow();
    assert.equal(ntp.status().synchronised, true);
    assert.ok(Math.abs(clock.now() - Date.now()) < 1000);
  });

  test('polls on its own timer, builds the reach register, and stops cleanly', async () => {
    const handlesBefore = await udpHandles();
    const clock = new ApplianceClock(HOUR);
    const ntp = new NtpClient({ clock, pollIntervalMs: 60, unsyncedIntervalMs: 30, timeoutMs: 300 });
    ntp.apply([{ address: '127.0.0.1', port: chrony.port }]);
    ntp.start();
    await until('three polls', () => ntp.associations()[0]!.polls >= 3);
    assert.equal(ntp.status().synchronised, true);
    assert.equal(reachText(ntp.associations()[0]!.reach), '7');
    await ntp.stop();
    const polls = ntp.associations()[0]!.polls;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ntp.associations()[0]!.polls, polls, 'no poll after stop()');
    assert.equal(await udpHandles(), handlesBefore, 'no socket left open');
  });

  test('stop() during a query does not wait for its timeout', async () => {
    const ntp = new NtpClient({ clock: new ApplianceClock(), timeoutMs: 10_000 });
    ntp.apply([{ address: '127.0.0.1', port: silent.port }]);
    ntp.start();
    await until('the query to be out', () => silent.requests > 0);
    const t0 = performance.now();
    await ntp.stop();
    assert.ok(performance.now() - t0 < 2000, `stop took ${performance.now() - t0} ms, not the query's 10 s`);
  });
});

describe('NtpClient with crafted servers', () => {
  test('loses sync after N polls without a usable answer, and says so', async () => {
    const server = await FakeNtp.start((req) => reply(req));
    try {
      const log = memoryLog();
      const ntp = new NtpClient({ clock: new ApplianceClock(), log, timeoutMs: 100, lostAfter: 3 });
      ntp.apply([{ address: '127.0.0.1', port: server.port }]);
      await ntp.pollNow();
      assert.equal(ntp.status().synchronised, true);
      server.respond = () => undefined;
      await ntp.pollNow();
      await ntp.pollNow();
      assert.equal(ntp.status().synchronised, true, 'still synchronised after 2 of 3');
      assert.equal(ntp.status().failedPolls, 2);
      await ntp.pollNow();
      assert.equal(ntp.status().synchronised, false);
      assert.equal(ntp.status().server, '127.0.0.1', 'the last server is still shown');
      assert.equal(reachText(ntp.associations()[0]!.reach), '10');
      assert.deepEqual(log.events.map((e) => e.event), ['ntp-synchronised', 'ntp-unsynchronised']);
      await ntp.stop();
    } finally {
      await server.close();
    }
  });

  test('DENY: that server is never asked again; the next one is used', async () => {
    const deny = await FakeNtp.start((req) => reply(req, { stratum: 0, refid: 'DENY' }));
    const good = await FakeNtp.start((req) => reply(req));
    try {
      const log = memoryLog();
      const ntp = new NtpClient({ clock: new ApplianceClock(), log, timeoutMs: 300 });
      ntp.apply([
        { address: '127.0.0.1', port: deny.port },
        { address: '127.0.0.1', port: good.port },
      ]);
      await ntp.pollNow();
      await ntp.pollNow();
      assert.equal(deny.requests, 1);
      assert.equal(good.requests, 2);
      const [a, b] = ntp.associations();
      assert.equal(a!.state, 'denied');
      assert.equal(a!.kissCode, 'DENY');
      assert.equal(b!.selected, true);
      assert.equal(ntp.status().port, good.port);
      assert.ok(log.events.some((e) => e.event === 'ntp-server-denied' && e.fields.kiss === 'DENY'));
      // Configuring the same list again keeps the refusal; removing and re-adding the server clears it.
      ntp.apply([{ address: '127.0.0.1', port: deny.port }, { address: '127.0.0.1', port: good.port }]);
      assert.equal(ntp.associations()[0]!.state, 'denied');
      ntp.apply([{ address: '127.0.0.1', port: good.port }]);
      ntp.apply([{ address: '127.0.0.1', port: deny.port }, { address: '127.0.0.1', port: good.port }]);
      assert.equal(ntp.associations()[0]!.state, 'new');
      await ntp.stop();
    } finally {
      await Promise.all([deny.close(), good.close()]);
    }
  });

  test('RATE: the server is left alone for a while, then asked again', async () => {
    const rate = await FakeNtp.start((req) => reply(req, { stratum: 0, refid: 'RATE' }));
    try {
      const ntp = new NtpClient({ clock: new ApplianceClock(), timeoutMs: 300, pollIntervalMs: 600, maxBackoffMs: 600 });
      ntp.apply([{ address: '127.0.0.1', port: rate.port }]);
      await ntp.pollNow();
      assert.equal(ntp.associations()[0]!.kissCode, 'RATE');
      assert.ok(ntp.associations()[0]!.backoffS > 0);
      await ntp.pollNow();
      assert.equal(rate.requests, 1, 'not asked again while backing off');
      await new Promise((r) => setTimeout(r, 700));
      await ntp.pollNow();
      assert.equal(rate.requests, 2, 'asked again once the back-off is over');
      await ntp.stop();
    } finally {
      await rate.close();
    }
  });

  test('while synchronised a far-off answer is ignored; unsynchronised it is taken', async () => {
    const server = await FakeNtp.start((req) => reply(req));
    try {
      const clock = new ApplianceClock(5 * HOUR);
      const ntp = new NtpClient({ clock, timeoutMs: 300, lostAfter: 2 });
      ntp.apply([{ address: '127.0.0.1', port: server.port }]);
      await ntp.pollNow();
      assert.ok(Math.abs(clock.now() - Date.now()) < 1000, 'the first sync takes a 5-hour step');
      server.respond = (req) => reply(req, { offsetMs: 2 * HOUR });
      await ntp.pollNow();
      assert.equal(ntp.associations()[0]!.lastFailure, 'implausible-offset');
      assert.ok(Math.abs(clock.now() - Date.now()) < 1000, 'clock not moved');
      await ntp.pollNow();
      assert.equal(ntp.status().synchronised, false);
      await ntp.pollNow();
      assert.equal(ntp.status().synchronised, true);
      assert.ok(Math.abs(clock.now() - Date.now() - 2 * HOUR) < 1000, 'a server that stays far off wins once sync is lost');
      await ntp.stop();
    } finally {
      await server.close();
    }
  });

  test('a `clock set` while a query is out voids that poll', async () => {
    const inner = new ApplianceClock();
    const clock: SteerableClock = inner;
    const server = await FakeNtp.start((req) => {
      inner.set(Date.UTC(2030, 0, 1)); // the operator sets the clock between T1 and T4
      return reply(req);
    });
    try {
      const ntp = new NtpClient({ clock, timeoutMs: 300 });
      ntp.apply([{ address: '127.0.0.1', port: server.port }]);
      await ntp.pollNow();
      assert.equal(ntp.status().synchronised, false);
      assert.equal(ntp.associations()[0]!.polls, 0);
      assert.ok(Math.abs(inner.now() - Date.UTC(2030, 0, 1)) < 1000, 'the operator’s time stands');
      await ntp.stop();
    } finally {
      await server.close();
    }
  });

  test('apply(): an added server is asked at once; no servers left means unsynchronised', async () => {
    const server = await FakeNtp.start((req) => reply(req));
    const added = await FakeNtp.start((req) => reply(req), '::1');
    try {
      const log = memoryLog();
      // Default intervals (16 s, 64 s): only the immediate poll on apply() can ask within the test's bounds.
      const ntp = new NtpClient({ clock: new ApplianceClock(), log, timeoutMs: 300 });
      ntp.start();
      ntp.apply([{ address: '127.0.0.1', port: server.port }]);
      await until('the first poll', () => ntp.status().synchronised, 1000);
      ntp.apply([{ address: '127.0.0.1', port: server.port }, { address: '::1', port: added.port }]);
      await until('the added server to be asked', () => added.requests === 1, 1000);
      await until('that poll to finish', () => ntp.associations()[1]!.polls === 1, 1000);
      assert.equal(ntp.associations()[0]!.polls, 2, 'history kept for a server still configured');
      ntp.apply([]);
      assert.equal(ntp.status().synchronised, false);
      assert.deepEqual(ntp.associations(), []);
      assert.equal(log.events.at(-1)!.event, 'ntp-unsynchronised');
      await ntp.stop();
    } finally {
      await Promise.all([server.close(), added.close()]);
    }
  });
});
