/**
 * E-mail OTP end to end (issue #6): a real SMTP server on 127.0.0.1 (npm smtp-server, STARTTLS with a
 * certificate the daemon trusts through NODE_EXTRA_CA_CERTS, AUTH PLAIN), the appliance as a daemon,
 * radclient as the NAS. The code is read from the mail the server received.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { tempFlash } from '../helpers/app.ts';
import { awplusArgv, runAwplus, Watched } from '../helpers/process.ts';
import { radclient } from '../helpers/radclient.ts';
import { peer } from '../helpers/peers.ts';

const BASE = 27000 + (process.pid % 2000);
const RADIUS = BASE;
const SMTP = BASE + 1;

const login = (password: string, extra: string[] = []) =>
  radclient(['User-Name = "carol"', `User-Password = "${password}"`, ...extra], { server: `127.0.0.1:${RADIUS}`, secret: 'nassecret', timeout: 12 });

test('e-mail OTP with a real SMTP server: challenge, code from the mail, wrong, expired, reused, server down', async () => {
  const flash = tempFlash();
  execFileSync(peer('openssl'), ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'smtp.key', '-out', 'smtp.crt', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { cwd: flash.dir, stdio: 'ignore' });
  const mails: { to: string; text: string; secure: boolean; user: string | undefined }[] = [];
  const smtp = new SMTPServer({
    key: readFileSync(join(flash.dir, 'smtp.key')),
    cert: readFileSync(join(flash.dir, 'smtp.crt')),
    authMethods: ['PLAIN'],
    logger: false,
    onAuth(auth, _session, done) {
      if (auth.username === 'otp' && auth.password === 'So0=HeMeTwo') done(null, { user: auth.username });
      else done(new Error('Invalid username or password'));
    },
    onData(stream, session, done) {
      let text = '';
      stream.on('data', (d: Buffer) => (text += d));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo[0]!.address, text, secure: session.secure, user: session.user as string | undefined });
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(SMTP, '127.0.0.1', () => r()));
  const daemonProcess = spawn(process.execPath, awplusArgv(['--daemon', '--flash', flash.dir]), {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: join(flash.dir, 'smtp.crt') },
  });
  const daemon = new Watched(daemonProcess);
  const cli = async (...lines: string[]) => (await runAwplus(['connect', '--flash', flash.dir], lines.join('\n') + '\n')).stdout;
  /** Moves the appliance clock `seconds` ahead (the mail rate limit and the code lifetime follow it). */
  let skew = 0;
  const later = async (seconds: number) => {
    skew += seconds;
    const d = new Date(Date.now() + skew * 1000);
    const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
    const hms = d.toISOString().slice(11, 19);
    await cli(`clock set ${hms} ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`);
  };
  const codeFromMail = () => /\b(\d{6})\b/.exec(mails[mails.length - 1]!.text.replace(/=\r?\n/g, ''))![1]!;
  try {
    await daemon.waitFor(/ready/);
    writeFileSync(join(flash.dir, 'otp.txt'), 'Subject: VPN code\nHello %%USER%%, your code for %%LABEL%% is %%CODE%% (until %%EXPIRY%%).\n');
    writeFileSync(join(flash.dir, 'bad.txt'), 'Your code: %%CODE%% %%NAME%%\n');
    const setup = await cli(
      'conf t',
      'service 2fa',
      'mail from otp@example.com',
      `mail smtpserver localhost port ${SMTP}`,
      'mail smtpserver authentication plain username otp password So0=HeMeTwo',
      '2fa email-otp',
      'mail smtpserver tls starttls',
      '2fa email-otp',
      '2fa email-template nothere.txt',
      '2fa email-template bad.txt',
      '2fa email-template otp.txt',
      'radius-server local',
      `server auth-port ${RADIUS}`,
      'nas 127.0.0.1 key nassecret 2fa',
      'user carol password carolpw',
      'server enable',
      'end',
      '2fa user carol email carol@example.com',
      'show running-config mail',
    );
    // Without TLS the manual's warning; with STARTTLS none; bad templates refused at configuration time.
    assert.match(setup, /awplus\(config\)#2fa email-otp\n% Email OTP has been enabled but the configuration is not secure\. Mail configuration is not using TLS\nawplus\(config\)#mail smtpserver tls starttls\nawplus\(config\)#2fa email-otp\nawplus\(config\)#/);
    assert.match(setup, /% Template file flash:\/nothere\.txt does not exist\n/);
    assert.match(setup, /% Invalid e-mail template: unknown variable %%NAME%%\n/);
    // The SMTP password is shown sealed, never in clear.
    assert.match(setup, /mail smtpserver authentication plain username otp password 8 \S+\n/);
    assert.ok(!setup.split('show running-config mail')[1]!.includes('So0=HeMeTwo'));

    // Password → first factor passes → a code by mail → Access-Challenge → the code → Accept.
    const first = await login('carolpw');
    assert.equal(first.kind, 'challenge', first.out);
    assert.match(first.out, /Reply-Message = "Enter the verification code sent to your e-mail address"/);
    assert.equal(mails.length, 1);
    assert.equal(mails[0]!.to, 'carol@example.com');
    assert.equal(mails[0]!.secure, true, 'sent after STARTTLS');
    assert.equal(mails[0]!.user, 'otp', 'after AUTH PLAIN');
    assert.match(mails[0]!.text, /Subject: VPN code/);
    assert.match(mails[0]!.text, /Hello carol, your code for awplus is \d{6} \(until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/);
    const code = codeFromMail();
    assert.equal((await login(code, [`State = ${first.state}`])).kind, 'accept');
    // The same code with the same State again: single use.
    assert.equal((await login(code, [`State = ${first.state}`])).kind, 'reject');

    // A wrong first factor sends no mail; a second mail within 30 s is refused.
    assert.equal((await login('wrong')).kind, 'reject');
    assert.equal(mails.length, 1);
    const limited = await login('carolpw');
    assert.equal(limited.kind, 'reject', 'one mail per user per 30 s');
    // The user is told why (retrying at once cannot work).
    assert.match(limited.out, /Reply-Message = "A code was mailed less than 30 seconds ago: use it, or wait and try again"/);

    // A wrong code.
    await later(31);
    const second = await login('carolpw');
    assert.equal(second.kind, 'challenge');
    assert.equal((await login(codeFromMail() === '000000' ? '111111' : '000000', [`State = ${second.state}`])).kind, 'reject');

    // An expired code (5 minutes).
    await later(31);
    const third = await login('carolpw');
    assert.equal(third.kind, 'challenge');
    // The Date header is the appliance clock's (62 s ahead of the host by now), not the host's.
    const date = Date.parse(/^Date: (.+)$/m.exec(mails[mails.length - 1]!.text)![1]!);
    assert.ok(Math.abs(date - (Date.now() + skew * 1000)) < 10_000 && Math.abs(date - Date.now()) > 40_000, `Date header ${new Date(date).toISOString()}`);
    await later(301);
    assert.equal((await login(codeFromMail(), [`State = ${third.state}`])).kind, 'reject');

    // Bad SMTP credentials, then the server down: the login is rejected, counted and logged.
    await later(31);
    await cli('conf t', 'mail smtpserver authentication plain username otp password wrong', 'end');
    assert.equal((await login('carolpw')).kind, 'reject');
    await cli('conf t', 'mail smtpserver authentication plain username otp password So0=HeMeTwo', 'end');
    await new Promise<void>((r) => smtp.close(() => r()));
    await later(31);
    assert.equal((await login('carolpw')).kind, 'reject');
    const status = await cli('show 2fa | include E-mail', 'show log | include radius-auth user=carol', 'show running-config mail');
    assert.match(status, /E-mail codes sent +: 3\n/);
    assert.match(status, /E-mail failures +: 2\n/);
    assert.match(status, /result=reject reason=mail-failed/);
    assert.match(status, /result=reject reason=mail-rate-limited/);
    assert.match(status, /result=accept reason=ok-email/);
    assert.ok(!status.includes(code), 'no code in the log');
  } finally {
    daemonProcess.kill('SIGTERM');
    await daemon.exited();
    smtp.close();
    flash.cleanup();
  }
});
