/**
 * Mail settings in the running config: the SMTP password is sealed (`8 …`) while password encryption is
 * on, opens again on the same appliance (so write memory + reboot keeps it), and is refused with a
 * clear error on another appliance; `no service password-encryption` shows it in clear.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminSession, newApp, runLines } from '../helpers/app.ts';

test('the SMTP password is sealed in the config, survives a reboot, and does not open elsewhere', async () => {
  const a = await newApp();
  const b = await newApp();
  try {
    const s = adminSession(a.app);
    await runLines(s, 'conf t', 'mail from otp@example.com', 'mail smtpserver 192.0.2.25', 'mail smtpserver authentication plain username otp password p4ss!word', 'end');
    const line = /mail smtpserver authentication plain username otp password 8 (\S+)/.exec(a.app.renderRunning('mail'));
    assert.ok(line, a.app.renderRunning('mail'));
    assert.ok(!a.app.renderRunning().includes('p4ss!word'));
    // The same secret seals the same way: render → write → reboot → render is identical.
    await runLines(s, 'write memory');
    const before = a.app.renderRunning();
    await a.app.reboot();
    assert.equal(a.app.renderRunning(), before);
    assert.equal(a.app.config.current.mail.auth?.password, 'p4ss!word');
    // Another appliance cannot open it.
    const out = await runLines(adminSession(b.app), 'conf t', `mail smtpserver authentication plain username otp password 8 ${line[1]}`);
    assert.match(out, /% Cannot decrypt the password: it was encrypted on another appliance; enter it again\n$/);
    // Without password encryption it is shown as typed.
    await runLines(adminSession(a.app), 'conf t', 'no service password-encryption', 'end');
    assert.match(a.app.renderRunning(), /^no service password-encryption$/m);
    assert.match(a.app.renderRunning('mail'), /password p4ss!word\n/);
    assert.match(await runLines(adminSession(a.app), 'show mail'), /^Authentication +: PLAIN, user otp\n/m);
  } finally {
    await a.close();
    await b.close();
  }
});
