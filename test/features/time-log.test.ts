/**
 * Time and logs through the CLI of an in-process appliance: `clock timezone` changes every displayed
 * time (the e-mail code's expiry too) and nothing else (OTPs stay UTC), `clock set` takes local time, `ntp server` and `log host`
 * lines with their `no` forms, `show log permanent` across a restart, and App.stop flushing it; the
 * NTP client held during boot, steering the clock the 2FA engine reads, and stopped with the appliance.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { App } from '../../src/app.ts';
import { emailTemplate } from '../../src/features/2fa/settings.ts';
import { EmailOtp } from '../../src/twofa/email-otp.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { ApplianceClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';
import { adminSession, fixedClock, newApp, runLines, T0, tempFlash } from '../helpers/app.ts';
import { FakeNtp, reply } from '../helpers/fake-ntp.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const BANNER = 'Enter configuration commands, one per line.  End with CNTL/Z.\n';

test('clock timezone: local time with the zone name everywhere it is shown; codes stay UTC', async () => {
  const env = await newApp({ clock: fixedClock(T0) }); // Sun 2024-03-03 12:00:00 UTC
  const s = adminSession(env.app);
  try {
    assert.equal(await runLines(s, 'conf t', 'service 2fa', 'clock timezone JST plus 9', 'end'), BANNER);
    assert.equal(
      await runLines(s, 'show clock'),
      ['Local Time: Sun, 03 Mar 2024 21:00:00 +0900', 'UTC Time:   Sun, 03 Mar 2024 12:00:00 +0000', 'Timezone: JST', 'Timezone Offset: +09:00', 'Summer time zone: None', ''].join('\n'),
    );
    assert.match(await runLines(s, 'show system'), /^System Status +Sun 03 Mar 2024 21:00:00 JST$/m);

    // A login stamps the last login; the code that is accepted is the UTC one.
    await runLines(s, `2fa create user alice secret ${SECRET}`);
    const utcCode = hotp(base32Decode(SECRET)!, timeStep(T0));
    assert.deepEqual(await env.app.twofa.verify('alice', utcCode), { ok: true, reason: 'ok-totp' }, 'the code of the UTC time step is accepted');
    assert.match(await runLines(s, 'show 2fa user alice'), /^Last login +: Sun, 03 Mar 2024 21:00:00 JST$/m);
    assert.match(await runLines(s, 'show log'), /^2024-03-03T21:00:00\.000\+09:00 info  2fa-verify user=alice result=accept reason=ok-totp$/m);
    assert.match(await runLines(s, 'show log permanent'), /^2024-03-03T21:00:00\.000\+09:00 info  2fa-verify user=alice result=accept reason=ok-totp$/m);

    // Half-hour zones west of UTC, and back to UTC with the no form.
    await runLines(s, 'conf t', 'clock timezone NST minus 3:30', 'end');
    assert.match(await runLines(s, 'show clock'), /^Local Time: Sun, 03 Mar 2024 08:30:00 -0330$/m);
    assert.match(await runLines(s, 'show running-config'), /^clock timezone NST minus 3:30$/m);
    await runLines(s, 'conf t', 'no clock timezone', 'end');
    assert.match(await runLines(s, 'show 2fa user alice'), /^Last login +: Sun, 03 Mar 2024 12:00:00 UTC$/m);
    assert.doesNotMatch(await runLines(s, 'show running-config'), /clock timezone/);
    assert.equal((await runLines(s, 'show clock')).split('\n')[0], 'UTC Time:   Sun, 03 Mar 2024 12:00:00 +0000');
  } finally {
    await env.close();
  }
});

test('clock timezone refuses what AW+ cannot express, with one % line', async () => {
  const env = await newApp();
  const s = adminSession(env.app);
  try {
    await runLines(s, 'conf t');
    assert.equal(await runLines(s, 'clock timezone TOOLONGX plus 9'), '% Invalid timezone name: up to 6 letters, digits, "_", "+" or "-"\n');
    assert.equal(await runLines(s, 'clock timezone X plus 14'), '% Invalid offset: at most 13 hours from UTC\n');
    assert.equal(await runLines(s, 'clock timezone X plus 5:60'), '% Invalid offset: minutes are 00 to 59\n');
    assert.equal(await runLines(s, 'clock timezone X plus nine'), '% Invalid offset: HH or HH:MM\n');
    assert.equal(env.app.config.current.timezone, undefined, 'nothing was applied');
  } finally {
    await env.close();
  }
});

test('clock set takes local time under clock timezone, and the audit line records UTC', async () => {
  const env = await newApp({ clock: fixedClock(T0) });
  const s = adminSession(env.app);
  try {
    await runLines(s, 'conf t', 'clock timezone JST plus 9', 'end');
    assert.equal(await runLines(s, 'clock set 09:00:00 1 January 2025'), '');
    assert.equal(env.app.clock.now(), Date.UTC(2025, 0, 1, 0, 0, 0), '09:00 JST is 00:00 UTC');
    const set = env.log.events.find((e) => e.event === 'clock-set');
    assert.equal(set?.fields.time, '2025-01-01T00:00:00.000Z');
  } finally {
    await env.close();
  }
});

test('ntp server and log host: repeatable, ports, IPv6, no forms, and the running config', async () => {
  const env = await newApp();
  const s = adminSession(env.app);
  try {
    const out = await runLines(
      s,
      'conf t',
      'ntp server 192.0.2.1',
      'ntp server 192.0.2.1 port 123', // the same server: the default port spelled out
      'ntp server 192.0.2.2 port 1123',
      'ntp server 2001:DB8::0:7B',
      'log host 192.0.2.9',
      'log host 192.0.2.9 port 1514',
      'log host 2001:db8::9 port 514',
      'end',
    );
    assert.equal(out, BANNER, 'every line taken');
    const run = await runLines(s, 'show running-config');
    assert.match(run, /^log host 192\.0\.2\.9\nlog host 192\.0\.2\.9 port 1514\nlog host 2001:db8::9\n!\n/m);
    assert.match(run, /^ntp server 192\.0\.2\.1\nntp server 192\.0\.2\.2 port 1123\nntp server 2001:db8::7b\n!\nend\n$/m);
    assert.deepEqual(
      env.app.ntp.associations().map((a) => `${a.address}:${a.port}`),
      ['192.0.2.1:123', '192.0.2.2:1123', '2001:db8::7b:123'],
      'the NTP client follows the lines',
    );
    assert.deepEqual(
      env.app.logs.syslog.stats().hosts.map((h) => `${h.address}:${h.port}`),
      ['192.0.2.9:514', '192.0.2.9:1514', '2001:db8::9:514'],
      'the syslog sender follows the lines',
    );
    const assoc = await runLines(s, 'show ntp associations');
    assert.match(assoc, /^ Address +Port +Ref clock +St +Reach +Last answer +Delay +Offset +State$/m);
    assert.match(assoc, /^ 192\.0\.2\.2 +1123 /m);
    assert.match(await runLines(s, 'show ntp status'), /^Clock is unsynchronized, stratum 16, no reference clock\nServers configured +: 3\nLast sync +: Never\n/);
    assert.match(await runLines(s, 'show log config'), /^ {2}192\.0\.2\.9 +1514 +\d+ +\d+$/m);

    await runLines(s, 'conf t');
    assert.equal(await runLines(s, 'no ntp server 192.0.2.2'), '% NTP server 192.0.2.2 is not configured; configured: 192.0.2.2 port 1123\n', 'the port is part of the server');
    assert.equal(await runLines(s, 'no log host 192.0.2.9 port 515'), '% Log host 192.0.2.9 port 515 is not configured; configured: 192.0.2.9, 192.0.2.9 port 1514\n');
    assert.equal(await runLines(s, 'no log host 192.0.2.8'), '% Log host 192.0.2.8 is not configured\n');
    assert.equal(await runLines(s, 'no ntp server 192.0.2.2 port 1123', 'no ntp server 2001:db8::7b', 'no log host 192.0.2.9 port 1514'), '');
    await runLines(s, 'end');
    assert.deepEqual(env.app.config.current.ntpServers, [{ address: '192.0.2.1', port: undefined }]);
    assert.deepEqual(env.app.ntp.associations().map((a) => a.address), ['192.0.2.1']);
    assert.deepEqual(env.app.logs.syslog.stats().hosts.map((h) => `${h.address}:${h.port}`), ['192.0.2.9:514', '2001:db8::9:514']);
  } finally {
    await env.close();
  }
});

test('the permanent log: App.stop flushes it, and the next start shows it under show log permanent, not show log', async () => {
  const flash = tempFlash();
  try {
    const first = await newApp({ dir: flash.dir, clock: new ApplianceClock() });
    await runLines(adminSession(first.app), 'conf t', 'service 2fa', 'end', '2fa create user nobody skip-2fa');
    first.app.log.info('marker-before-stop', { n: 1 });
    await first.app.stop(); // no wait for the one-second flush: stop writes the queue
    const file = join(flash.dir, '.log-permanent');
    assert.ok(existsSync(file), 'the log is a dot-file in flash');
    assert.match(readFileSync(file, 'utf8'), /"event":"marker-before-stop"/);
    // A line whose time did not survive (hand-edited, or another version's) still shows, dated "-".
    appendFileSync(file, '{"time":null,"level":"info","event":"undated","fields":{}}\n');

    const second = await newApp({ dir: flash.dir, clock: new ApplianceClock() });
    try {
      const s = adminSession(second.app);
      const permanent = await runLines(s, 'show log permanent');
      const events = permanent.split('\n').filter((l) => l !== '').map((l) => l.split(' ').filter((w) => w !== '')[2]);
      assert.deepEqual(events.slice(0, 2), ['booted', '2fa-user-created'], permanent);
      assert.ok(events.includes('marker-before-stop'), permanent);
      assert.match(permanent, /^- info  undated$/m);
      assert.equal(events.filter((e) => e === 'booted').length, 2, 'both boots');
      assert.doesNotMatch(await runLines(s, 'show log'), /marker-before-stop/, 'show log is this run only');
      const tail = (await runLines(s, 'show log permanent tail')).split('\n').filter((l) => l !== '');
      assert.equal(tail.length, Math.min(10, events.length));
      assert.match(tail.at(-1)!, / booted /);
      assert.doesNotMatch(await runLines(s, 'dir'), /log-permanent/, 'dir does not list it');
    } finally {
      await second.app.stop();
    }
  } finally {
    flash.cleanup();
  }
});

test('the e-mail code says until when in the configured zone; UTC without one', async () => {
  const env = await newApp({ clock: fixedClock(T0) });
  const s = adminSession(env.app);
  const sent: string[] = [];
  const mailer = () => ({ send: async (_to: string, _subject: string, text: string) => void sent.push(text) });
  const otp = () => new EmailOtp(mailer, () => emailTemplate(env.app.config.current, env.app.flash), env.app.clock, memoryLog());
  try {
    assert.equal((await otp().issue('carol', 'carol@example.jp', 'vpn')).ok, true);
    assert.match(sent[0]!, /until 2024-03-03 12:05:00 UTC\.$/m);
    await runLines(s, 'conf t', 'clock timezone JST plus 9', 'end');
    assert.equal((await otp().issue('carol', 'carol@example.jp', 'vpn')).ok, true);
    assert.match(sent[1]!, /until 2024-03-03 21:05:00 JST\.$/m);
  } finally {
    await env.close();
  }
});

test('the NTP client is held while the startup config is applied, steers the clock OTP checks read, and stops with the appliance', async () => {
  const HOUR = 3_600_000;
  const dropped = await FakeNtp.start((req) => reply(req));
  const kept = await FakeNtp.start((req) => reply(req, { offsetMs: HOUR, stratum: 3 }));
  // The startup config names a server and removes it again: a client polling during the boot would ask it.
  const flash = tempFlash({
    'default.cfg': [`ntp server 127.0.0.1 port ${dropped.port}`, `no ntp server 127.0.0.1 port ${dropped.port}`, `ntp server 127.0.0.1 port ${kept.port}`, 'service 2fa', ''].join('\n'),
  });
  let app: App | undefined;
  try {
    // Short intervals so that "no poll after stop" means something within a test's time.
    app = await App.start({ flash: flash.dir, log: memoryLog(), clock: new ApplianceClock(), ntp: { pollIntervalMs: 50, unsyncedIntervalMs: 50 } });
    const started = app;
    const deadline = performance.now() + 5000;
    while (!started.ntp.status().synchronised) {
      assert.ok(performance.now() < deadline, 'synchronized within 5 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(dropped.requests, 0, 'the server the startup config removed was never asked');
    // A reboot applies the startup config again while the client is running: the client is stopped
    // for the boot and sees the config's changes once, batched, so the removed server is not asked.
    await app.reboot();
    await new Promise((r) => setTimeout(r, 200)); // four poll intervals
    assert.equal(dropped.requests, 0, 'not asked during the reboot either');
    assert.equal(app.ntp.status().synchronised, true);
    assert.ok(Math.abs(app.clock.now() - (Date.now() + HOUR)) < 1000, 'the appliance clock follows the server');
    // The 2FA engine reads that clock: the code of the server's time is accepted, the host's is not.
    await app.twofa.createUser('alice', { secret: SECRET });
    assert.equal((await app.twofa.verify('alice', hotp(base32Decode(SECRET)!, timeStep(Date.now())))).ok, false, 'the host clock is an hour behind the appliance');
    assert.deepEqual(await app.twofa.verify('alice', hotp(base32Decode(SECRET)!, timeStep(Date.now() + HOUR))), { ok: true, reason: 'ok-totp' });
    assert.equal((await runLines(adminSession(app), 'clock set 10:00:00 1 January 2025')), '% The clock is synchronized by NTP; remove the ntp server lines to set it by hand\n');

    await app.stop();
    app = undefined;
    const asked = kept.requests;
    assert.ok(asked >= 1, 'asked while running');
    await new Promise((r) => setTimeout(r, 300)); // six poll intervals
    assert.equal(kept.requests, asked, 'no poll after App.stop');
  } finally {
    await app?.stop();
    await dropped.close();
    await kept.close();
    flash.cleanup();
  }
});
