/**
 * Time and logs through the appliance, with real peers started here on 127.0.0.1 (issue #19):
 * - chronyd (`chronyd -x`, never touching the host clock) as the NTP server of a daemon whose clock was
 *   set an hour wrong: once `show ntp status` says synchronized, a TOTP code of the true time is
 *   accepted over RADIUS (radclient), and `clock set` is refused;
 * - rsyslogd as the log host: it receives the audit lines of RADIUS logins as RFC 5424 with
 *   structured data, and no password, code or secret;
 * - the permanent log survives a clean restart and a kill -9 (after its flush);
 * - a full flash (a small tmpfs, as root) does not stop logins, and the log says it dropped lines.
 * Every wait is bounded; every process is stopped in `finally`, also when the test fails.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { App } from '../../src/app.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { ApplianceClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';
import { adminSession, runLines, tempFlash } from '../helpers/app.ts';
import { startChrony, type Chrony } from '../helpers/chrony.ts';
import { freeUdpPort } from '../helpers/daemon.ts';
import { requireBinary } from '../helpers/peers.ts';
import { runAwplus, startDaemon, type Watched } from '../helpers/process.ts';
import { radclient } from '../helpers/radclient.ts';
import { startRsyslog, type Rsyslog } from '../helpers/rsyslog.ts';

const HOUR = 3_600_000;
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const b64 = (s: string) => Buffer.from(s).toString('base64');
const pad2 = (n: number) => String(n).padStart(2, '0');

/** The TOTP code of the true (host) time: what the user's phone shows. */
const trueCode = () => hotp(base32Decode(SECRET)!, timeStep(Date.now()));

/** A startup config: a local RADIUS server on `port` whose NAS 127.0.0.1 logs users in with 2FA. */
const radiusConfig = (port: number, extra: string[] = []) =>
  ['hostname core1', ...extra, 'service 2fa', 'radius-server local', `server auth-port ${port}`, 'nas 127.0.0.1 key nassecret 2fa', 'user alice password alicepw', 'user bob password bobpw', 'server enable', ''].join('\n');

/** Script lines through `awplus connect` to the running daemon. */
async function cli(flash: string, ...lines: string[]): Promise<{ code: number | null; out: string }> {
  const r = await runAwplus(['connect', '--flash', flash], lines.join('\n') + '\n');
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Polls `cond` every 100 ms; fails after `timeoutMs`. */
async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM and wait (bounded; SIGKILL after 10 s). */
async function stopDaemon(d: Watched | undefined): Promise<void> {
  if (!d || d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill('SIGTERM');
  await d.exited(10000);
}

const login = (port: number, user: string, password: string) =>
  radclient([`User-Name = "${user}"`, `User-Password = "${password}"`], { server: `127.0.0.1:${port}`, secret: 'nassecret' });

test('NTP: chronyd steers a clock set an hour wrong; then a code of the true time is accepted over RADIUS and clock set is refused', async () => {
  let chrony: Chrony | undefined;
  let daemon: Watched | undefined;
  const flash = tempFlash();
  try {
    chrony = await startChrony();
    const port = await freeUdpPort();
    writeFileSync(join(flash.dir, 'default.cfg'), radiusConfig(port));
    daemon = await startDaemon(flash.dir);
    assert.equal((await cli(flash.dir, `2fa create user alice secret ${SECRET}`)).code, 0);

    // The appliance clock an hour behind the true time (clock set takes local time: no zone here).
    const wrong = new Date(Date.now() - HOUR);
    const set = await cli(flash.dir, `clock set ${pad2(wrong.getUTCHours())}:${pad2(wrong.getUTCMinutes())}:${pad2(wrong.getUTCSeconds())} ${wrong.getUTCDate()} ${MONTHS[wrong.getUTCMonth()]} ${wrong.getUTCFullYear()}`);
    assert.equal(set.code, 0, set.out);
    // The phone's code is an hour (120 steps) off the appliance's: refused.
    const early = await login(port, 'alice', `SCRV1:${b64('alicepw')}:${b64(trueCode())}`);
    assert.equal(early.kind, 'reject', early.out);

    const cfg = await cli(flash.dir, 'conf t', `ntp server 127.0.0.1 port ${chrony.port}`, 'end');
    assert.equal(cfg.code, 0, cfg.out);
    // The client asks a newly configured server at once, so this normally ends on the first check;
    // the bound also covers one lost answer and the retry 16 s later (the unsynchronised interval).
    let status = '';
    await until('show ntp status to say synchronized', async () => /^Clock is synchronized/m.test((status = (await cli(flash.dir, 'show ntp status')).out)), 25000);
    assert.match(status, new RegExp(`^Clock is synchronized, stratum 9, reference is 127\\.0\\.0\\.1 port ${chrony.port}$`, 'm'));
    const offset = Number(/^Offset at last sync +: (-?\d+\.\d+) ms/m.exec(status)?.[1]);
    // θ = server − local (RFC 4330 §5): our clock was an hour behind, so the offset is one hour ahead.
    assert.ok(Math.abs(offset - HOUR) < 5000, `the measured offset ${offset} ms is the hour we set wrong`);
    assert.match((await cli(flash.dir, 'show ntp associations')).out, new RegExp(`^\\*127\\.0\\.0\\.1 +${chrony.port} +127\\.127\\.1\\.1 +8 +1 `, 'm'));

    // The appliance clock is the true time again, to the second.
    const clock = (await cli(flash.dir, 'show clock')).out;
    const shown = Date.parse(/UTC Time: +(.+)$/m.exec(clock)![1]!);
    assert.ok(Math.abs(shown - Date.now()) < 3000, `show clock says ${clock}`);
    // …and kept in flash like an RTC, so a restart does not bring the hour back.
    const saved = JSON.parse(readFileSync(join(flash.dir, '.clock'), 'utf8')) as { offsetMs: number };
    assert.ok(Math.abs(saved.offsetMs) < 1000, `.clock offset ${saved.offsetMs} ms`);

    const accepted = await login(port, 'alice', `SCRV1:${b64('alicepw')}:${b64(trueCode())}`);
    assert.equal(accepted.kind, 'accept', accepted.out);

    const refused = await cli(flash.dir, 'clock set 10:00:00 1 January 2025');
    assert.equal(refused.code, 1, 'the line counts as rejected');
    assert.match(refused.out, /^% The clock is synchronized by NTP; remove the ntp server lines to set it by hand$/m);
    assert.match((await cli(flash.dir, 'show log | include ntp-synchronised')).out, new RegExp(`ntp-synchronised server=127\\.0\\.0\\.1 port=${chrony.port} stratum=9 offset=3\\d{3}\\.\\d+`));
  } finally {
    await stopDaemon(daemon);
    await chrony?.stop();
    flash.cleanup();
  }
});

test('syslog: rsyslogd receives the audit lines of RADIUS logins with structured data, never a password, code or secret', async () => {
  let rsyslog: Rsyslog | undefined;
  let daemon: Watched | undefined;
  const flash = tempFlash();
  try {
    rsyslog = await startRsyslog();
    const port = await freeUdpPort();
    writeFileSync(join(flash.dir, 'default.cfg'), radiusConfig(port, [`log host 127.0.0.1 port ${rsyslog.port}`]));
    daemon = await startDaemon(flash.dir);
    assert.equal((await cli(flash.dir, `2fa create user alice secret ${SECRET}`)).code, 0);
    const start = Date.now();

    const code = trueCode();
    const good = await login(port, 'alice', `SCRV1:${b64('alicepw')}:${b64(code)}`);
    assert.equal(good.kind, 'accept', good.out);
    const wrongCode = code === '314159' ? '271828' : '314159';
    assert.equal((await login(port, 'alice', `SCRV1:${b64('alicepw')}:${b64(wrongCode)}`)).kind, 'reject');

    const auth = await rsyslog.waitFor((r) => r.msgid === 'radius-auth', 2);
    const [accept, reject] = auth;
    // <86>: facility authpriv (10) × 8 + severity informational (6) (RFC 5424 §6.2.1).
    assert.equal(accept!.pri, '86');
    assert.equal(accept!.version, '1');
    assert.equal(accept!.host, 'core1');
    assert.equal(accept!.app, 'awplus');
    assert.equal(accept!.procid, String(daemon.child.pid));
    assert.ok(Math.abs(Date.parse(accept!.time) - start) < 10000, `TIMESTAMP ${accept!.time}`);
    assert.deepEqual(accept!.parsed['awplus@32473'], { user: 'alice', client: '127.0.0.1', result: 'accept', reason: 'ok-totp' });
    assert.deepEqual(reject!.parsed['awplus@32473'], { user: 'alice', client: '127.0.0.1', result: 'reject', reason: 'bad-code' });
    const verify = await rsyslog.waitFor((r) => r.msgid === '2fa-verify', 2);
    assert.deepEqual(verify.map((r) => r.parsed['awplus@32473']?.result), ['accept', 'reject']);

    const all = rsyslog.received().map((r) => r.raw).join('\n');
    for (const secret of ['alicepw', b64('alicepw'), code, b64(code), wrongCode, b64(wrongCode), SECRET, 'nassecret']) {
      assert.ok(!all.includes(secret), `"${secret}" was sent to the log host`);
    }
    // show log is unchanged: the same events, in memory.
    assert.match((await cli(flash.dir, 'show log | include radius-auth')).out, /radius-auth user=alice client=127\.0\.0\.1 result=accept reason=ok-totp/);
    assert.match((await cli(flash.dir, 'show log config')).out, new RegExp(`^ {2}127\\.0\\.0\\.1 +${rsyslog.port} +[1-9]\\d* +0$`, 'm'));
  } finally {
    await stopDaemon(daemon);
    await rsyslog?.stop();
    flash.cleanup();
  }
});

test('show log permanent survives a clean restart and a kill -9 after its flush; show log starts empty', async () => {
  let daemon: Watched | undefined;
  const flash = tempFlash();
  try {
    const port = await freeUdpPort();
    writeFileSync(join(flash.dir, 'default.cfg'), radiusConfig(port));
    daemon = await startDaemon(flash.dir);
    assert.equal((await login(port, 'bob', 'bobpw')).kind, 'accept');
    // Stopped at once, before the one-second flush: shutdown writes the queue.
    await stopDaemon(daemon);

    daemon = await startDaemon(flash.dir);
    const first = await cli(flash.dir, 'show log permanent | include radius-auth', 'show log | include radius-auth');
    assert.equal(
      first.out.replace(/^\S+ info  /gm, ''),
      ['core1#show log permanent | include radius-auth', 'radius-auth user=bob client=127.0.0.1 result=accept reason=unconfigured-user', 'core1#show log | include radius-auth', ''].join('\n'),
    );

    // A second login reaches flash within about a second without any shutdown…
    assert.equal((await login(port, 'bob', 'bobpw')).kind, 'accept');
    const file = join(flash.dir, '.log-permanent');
    await until('the second login in flash', () => readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"radius-auth"')).length === 2, 3000);
    // …so a kill -9 keeps it.
    daemon.child.kill('SIGKILL');
    await daemon.exited(5000);
    daemon = await startDaemon(flash.dir);
    const after = await cli(flash.dir, 'show log permanent | include radius-auth|booted');
    const events = after.out.split('\n').slice(1, -1).map((l) => l.split(/ +/)[2]);
    assert.deepEqual(events, ['booted', 'radius-auth', 'booted', 'radius-auth', 'booted'], after.out);
  } finally {
    await stopDaemon(daemon);
    flash.cleanup();
  }
});

const isRoot = process.getuid?.() === 0;

/** `n` logins of bob in one radclient run, 10 in flight; resolves with the number of Access-Accepts. */
async function burst(port: number, n: number): Promise<number> {
  requireBinary('radclient', 'freeradius-utils');
  const requests = Array.from({ length: n }, () => 'User-Name = "bob"\nUser-Password = "bobpw"\nMessage-Authenticator = 0x00\n').join('\n');
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('radclient', ['-x', '-t', '2', '-r', '1', '-p', '10', `127.0.0.1:${port}`, 'auth', 'nassecret']);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    child.stdin.end(requests);
  });
  return out.match(/Received Access-Accept/g)?.length ?? 0;
}

test('a full flash does not stop logins; the permanent log drops lines and says so', { skip: isRoot ? false : 'needs root to mount a small tmpfs as the flash' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'awplus-fullflash-'));
  const flash = join(dir, 'flash');
  mkdirSync(flash);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', flash]);
  let app: App | undefined;
  const filler = join(flash, 'filler');
  try {
    const port = await freeUdpPort();
    writeFileSync(join(flash, 'default.cfg'), radiusConfig(port));
    // In-process for a small log buffer: 4 KiB fills after ~25 lines, which a test can send quickly.
    app = await App.start({ flash, log: memoryLog(), clock: new ApplianceClock(), permanentLog: { maxBufferBytes: 4096, flushIntervalMs: 100 } });
    const s = adminSession(app);
    await app.logs.permanent.flush();

    try {
      for (;;) appendFileSync(filler, Buffer.alloc(65536, 0x78));
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    // Users without a 2FA record log in with the password alone: nothing to write in the user store,
    // so the only writer on the full flash is the log. Logins until a flush fails (the first lines may
    // still fit in the log file's last page)…
    let logins = 0;
    for (let round = 0; app.logs.permanent.stats().failing === undefined; round++) {
      assert.ok(round < 10, 'the flash never filled up');
      assert.equal(await burst(port, 10), 10, 'every login answered while the flash fills');
      logins += 10;
      await new Promise((r) => setTimeout(r, 250)); // a few flush intervals
    }
    assert.equal(app.logs.permanent.stats().failing, 'ENOSPC');
    // …then a burst larger than the 4 KiB buffer: every login accepted, the lines beyond it dropped.
    assert.equal(await burst(port, 60), 60, 'every login accepted on a full flash');
    logins += 60;

    const config = await runLines(s, 'show log config');
    assert.match(config, /^ {2}Flash writes +: failing \(ENOSPC\)/m);
    const dropped = app.logs.permanent.stats().dropped;
    assert.ok(dropped > 0, `${dropped} lines dropped`);
    assert.match(config, new RegExp(`^ {2}Lines dropped +: ${dropped}$`, 'm'));

    // Space returns: the kept lines and one marker for the gap reach flash.
    unlinkSync(filler);
    await until('the log written again', () => app!.logs.permanent.stats().failing === undefined && app!.logs.permanent.stats().bufferedLines === 0, 5000);
    const permanent = await runLines(s, 'show log permanent');
    const gaps = [...permanent.matchAll(/^\S+ error log-dropped lines=(\d+) reason="flash write failed \(ENOSPC\)"$/gm)].map((m) => Number(m[1]));
    assert.ok(gaps.length > 0, `a log-dropped line in:\n${permanent}`);
    const kept = permanent.split('\n').filter((l) => / radius-auth user=bob .*result=accept/.test(l)).length;
    assert.ok(kept > 0 && kept < logins, `${kept} of ${logins} logins kept`);
    assert.equal(kept + gaps.reduce((a, b) => a + b, 0), logins, 'every login is in the log or counted in a gap');
  } finally {
    // Close the log before unmounting (an open file keeps the mount busy); report, not hide, a cleanup failure.
    await app?.stop();
    try {
      if (existsSync(filler)) unlinkSync(filler);
      execFileSync('umount', [flash]);
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      process.stderr.write(`cleanup of ${flash} failed: ${(e as Error).message}\n`);
    }
  }
});
