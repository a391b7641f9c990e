/**
 * `log host`: RFC 5424 messages checked field by field as a real rsyslogd parses them (header fields,
 * structured data unescaped by its mmpstrucdata module), over IPv4 and IPv6; secret-looking fields
 * never leave; the sender never throws or blocks, and bounds what is in flight.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { redactFields } from '../../src/log/redact.ts';
import { escapeParamValue, FACILITY_LOCAL7, formatSyslog, sdName, SyslogSender } from '../../src/log/syslog.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { freeUdpPort } from '../helpers/daemon.ts';
import { startRsyslog, type Rsyslog } from '../helpers/rsyslog.ts';

const T = Date.UTC(2024, 2, 3, 12, 0, 0, 250);
const FORMAT = { hostname: 'core1', procId: '4242' };

describe('RFC 5424 formatting', () => {
  test('one message: PRI, VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID, SD, MSG', () => {
    const m = formatSyslog({ time: T, level: 'info', event: 'radius-auth', fields: { user: 'alice', result: 'accept', n: 3 } }, FORMAT).toString();
    assert.equal(m, '<86>1 2024-03-03T12:00:00.250Z core1 awplus 4242 radius-auth [awplus@32473 user="alice" result="accept" n="3"] radius-auth user=alice result=accept n=3');
  });

  test('severity from the level, facility authpriv by default or as chosen', () => {
    const pri = (level: string, facility?: number) => formatSyslog({ time: T, level, event: 'e', fields: {} }, { ...FORMAT, facility }).toString().match(/^<(\d+)>/)![1];
    assert.equal(pri('info'), '86'); // 10 × 8 + 6
    assert.equal(pri('error'), '83'); // 10 × 8 + 3
    assert.equal(pri('info', FACILITY_LOCAL7), '190');
    assert.equal(pri('error', FACILITY_LOCAL7), '187');
  });

  test('header fields are PRINTUSASCII and bounded; MSGID at most 32', () => {
    const m = formatSyslog({ time: T, level: 'info', event: 'an event name that is much longer than thirty-two', fields: {} }, { hostname: 'my host', procId: '1' }).toString();
    const [, , host, , , msgid] = m.split(' ');
    assert.equal(host, 'my_host');
    assert.equal(msgid, 'an_event_name_that_is_much_longe');
    assert.equal(msgid!.length, 32);
    assert.match(formatSyslog({ time: T, level: 'info', event: '', fields: {} }, { hostname: '', procId: '1' }).toString(), /^<86>1 \S+ - awplus 1 - \[awplus@32473\]/);
  });

  test('PARAM-VALUE escapes " \\ ] and control characters; PARAM-NAME loses = ] " and spaces', () => {
    assert.equal(escapeParamValue('a"b\\c]d'), 'a\\"b\\\\c\\]d');
    assert.equal(sdName('a b=c]d"e'), 'a_b_c_d_e');
    assert.equal(sdName('x'.repeat(40)).length, 32);
    const m = formatSyslog({ time: T, level: 'info', event: 'e', fields: { user: 'eve\nforged line' } }, FORMAT).toString();
    assert.ok(!m.includes('\n'));
    // The newline becomes the text \x0a, whose backslash is then escaped like any other.
    assert.match(m, /user="eve\\\\x0aforged line"/);
    // C1 controls and bidi overrides too, as on the terminal.
    const c1 = formatSyslog({ time: T, level: 'info', event: 'e', fields: { user: 'a\u009b2Jb\u202ec' } }, FORMAT).toString();
    assert.ok(!/[\u009b\u202e]/.test(c1));
    assert.match(c1, /user="a\\\\x9b2Jb\\\\u202ec"/);
  });

  test('UTF-8 MSG starts with a BOM; ASCII has none', () => {
    const utf = formatSyslog({ time: T, level: 'info', event: 'e', fields: { user: '日本' } }, FORMAT).toString();
    assert.ok(utf.includes('] \ufeffe user=日本'));
    assert.ok(!formatSyslog({ time: T, level: 'info', event: 'e', fields: { user: 'a' } }, FORMAT).toString().includes('\ufeff'));
  });

  test('stays within maxBytes, dropping parameters that do not fit and saying so', () => {
    const fields = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x'.repeat(60)]));
    const b = formatSyslog({ time: T, level: 'info', event: 'e', fields }, { ...FORMAT, maxBytes: 600 });
    assert.ok(b.length <= 600, String(b.length));
    assert.match(b.toString(), /f0="x+".* truncated="true"\]/);
  });
});

describe('redaction', () => {
  test('drops secret-looking names at any depth, keeps the rest', () => {
    const r = redactFields({ user: 'alice', password: 'p', userPassword: 'p', otp_code: '123456', apiKey: 'k', token: 't', nested: { secret: 's', ok: 1, list: [{ scratchCodes: [1] }] } });
    assert.deepEqual(r.fields, { user: 'alice', nested: { ok: 1, list: [{}] } });
    assert.equal(r.dropped, 7);
  });
});

describe('against rsyslogd', () => {
  let rsyslog: Rsyslog;
  before(async () => {
    rsyslog = await startRsyslog();
  });
  after(() => rsyslog?.stop());

  test('events arrive over IPv4 and IPv6 as sent; the structured data round-trips; no password', async () => {
    const clock = new ManualClock(T);
    let hostname = 'core1';
    const sender = new SyslogSender({ now: () => clock.now(), hostname: () => hostname, procId: 4242 });
    sender.apply([
      { address: '127.0.0.1', port: rsyslog.port },
      { address: '::1', port: rsyslog.port },
    ]);
    const tricky = 'q"uote \\back ]bracket 日本';
    sender.info('radius-auth', { user: tricky, client: '192.0.2.1', result: 'accept', password: 'hunter2-SECRET', Count: 2 });
    clock.advance(1000);
    hostname = 'core2';
    sender.error('2fa-locked-out', { user: 'bob', code: '654321' });
    const auth = await rsyslog.waitFor((r) => r.msgid === 'radius-auth', 2);
    const locked = await rsyslog.waitFor((r) => r.msgid === '2fa-locked-out', 2);
    await sender.close();

    assert.deepEqual(auth.map((r) => r.from).sort(), ['127.0.0.1', '::1']);
    for (const r of auth) {
      assert.equal(r.pri, '86');
      assert.equal(r.version, '1');
      assert.equal(r.time, '2024-03-03T12:00:00.250Z');
      assert.equal(r.host, 'core1');
      assert.equal(r.app, 'awplus');
      assert.equal(r.procid, '4242');
      assert.deepEqual(r.parsed, { 'awplus@32473': { user: tricky, client: '192.0.2.1', result: 'accept', Count: '2' } });
      assert.ok(r.msg.includes('result=accept'));
    }
    for (const r of locked) {
      assert.equal(r.pri, '83');
      assert.equal(r.host, 'core2');
      assert.equal(r.time, '2024-03-03T12:00:01.250Z');
      assert.deepEqual(r.parsed, { 'awplus@32473': { user: 'bob' } });
    }
    const everything = JSON.stringify(rsyslog.received());
    assert.ok(!everything.includes('hunter2'), 'the password never left');
    assert.ok(!everything.includes('654321'), 'the code never left');
    assert.ok(!/password/i.test(everything));
    assert.equal(sender.stats().redacted, 2);
    assert.equal(sender.stats().sent, 4);
    assert.equal(sender.stats().errors, 0);
  });

  test('a host that does not listen costs nothing; the others still get every event', async () => {
    const deadPort = await freeUdpPort();
    const sender = new SyslogSender({ now: () => T, hostname: () => 'core1' });
    sender.apply([
      { address: '127.0.0.1', port: deadPort },
      { address: '127.0.0.1', port: rsyslog.port },
    ]);
    for (let i = 0; i < 5; i++) sender.info('dead-host-check', { i });
    await rsyslog.waitFor((r) => r.msgid === 'dead-host-check', 5);
    await sender.close();
  });

  test('a burst larger than the in-flight bound is dropped and counted, never thrown', async () => {
    const sender = new SyslogSender({ now: () => T, hostname: () => 'core1', maxInFlight: 8 });
    sender.apply([{ address: '127.0.0.1', port: rsyslog.port }]);
    for (let i = 0; i < 2000; i++) sender.info('burst', { i });
    assert.equal(sender.stats().sent, 0, 'nothing is sent on the caller’s time: sends complete later');
    await sender.close();
    const s = sender.stats();
    assert.ok(s.dropped > 0, 'some were dropped');
    assert.equal(s.sent + s.dropped + s.errors, 2000);
    await rsyslog.waitFor((r) => r.msgid === 'burst', 1);
  });

  test('after close() events are ignored; apply() refuses a name that is not an address', async () => {
    const sender = new SyslogSender({ now: () => T, hostname: () => 'core1' });
    assert.throws(() => sender.apply([{ address: 'logs.example' }]), RangeError);
    sender.apply([{ address: '127.0.0.1', port: rsyslog.port }]);
    await sender.close();
    sender.info('after-close', {});
    assert.equal(sender.stats().sent, 0);
    assert.throws(() => new SyslogSender({ now: () => T, hostname: () => 'h', sdId: 'no-pen' }), RangeError);
  });
});
