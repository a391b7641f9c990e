/**
 * Flash files and boot settings: `dir`, `boot config-file` chooses what the next boot applies,
 * `show system`, and file names that would leave the flash directory are refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminSession, newApp, runLines } from '../helpers/app.ts';


test('dir lists visible files with size and time; dot-files stay hidden', async () => {
  const env = await newApp({ files: { 'default.cfg': 'hostname a\n', 'notes.txt': 'hello\n' } });
  try {
    const s = adminSession(env.app);
    const out = await runLines(s, 'dir');
    const rows = out.trimEnd().split('\n');
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /^ {7}11 -rw- [A-Z][a-z]{2} \d{2} \d{4} \d{2}:\d{2}:\d{2} {2}default\.cfg$/);
    assert.match(rows[1]!, /^ {8}6 -rw- .* notes\.txt$/);
    assert.ok(!out.includes('.lock'));
  } finally {
    await env.close();
  }
});

test('boot config-file picks the file the next boot applies; show boot and show system say so', async () => {
  const env = await newApp({ files: { 'default.cfg': 'hostname first\n', 'other.cfg': 'hostname second\n' } });
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'boot config-file flash:/other.cfg', 'end');
    assert.match(await runLines(s, 'show boot'), /Current boot config: flash:\/other\.cfg \(file exists\)/);
    assert.match(await runLines(s, 'show system'), /Current boot config: flash:\/other\.cfg \(file exists\)\n\nSystem Name\n first\n/);
    await env.app.reboot();
    assert.equal(env.app.config.current.hostname, 'second');
  } finally {
    await env.close();
  }
});

test('copy running-config and copy startup-config to flash:/NAME make config files boot config-file can use', async () => {
  const env = await newApp({ files: { 'default.cfg': 'hostname saved\n' } });
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'hostname live', 'end');
    assert.equal(await runLines(s, 'copy running-config flash:/backup.cfg'), 'Building configuration...\n[OK]\n');
    assert.equal(env.app.flash.read('backup.cfg'), env.app.renderRunning());
    assert.equal(await runLines(s, 'copy startup-config flash:/saved.cfg'), '[OK]\n');
    assert.equal(env.app.flash.read('saved.cfg'), 'hostname saved\n');
    // The abbreviation of startup-config stays one (the destination spells out flash:).
    assert.equal(await runLines(s, 'cop run start'), 'Building configuration...\n[OK]\n');
    assert.match(env.app.flash.read('default.cfg'), /^hostname live$/m);
    assert.match(await runLines(s, 'copy running-config backup.cfg'), /% Invalid input detected at '\^' marker\.\n$/);
    assert.match(await runLines(s, 'copy running-config flash:/.boot'), /% Invalid input detected at '\^' marker\.\n$/);
    assert.doesNotMatch(await runLines(s, 'conf t', 'boot config-file flash:/saved.cfg', 'end'), /%/);
    await env.app.reboot();
    assert.match(await runLines(adminSession(env.app), 'show running-config | include hostname'), /^hostname saved$/m);
  } finally {
    await env.close();
  }
});

test('file names cannot leave the flash directory', async () => {
  const env = await newApp();
  try {
    const s = adminSession(env.app);
    for (const bad of ['show file ../x', 'show file /etc/passwd', 'delete flash:/../x', 'show file flash:/.lock']) {
      const r = await s.execute(bad);
      assert.equal(r.ok, false, bad);
      assert.match(r.output, /% Invalid input detected/, bad);
    }
  } finally {
    await env.close();
  }
});

test('sessions share one running config but keep their own mode and history', async () => {
  const env = await newApp();
  try {
    const a = adminSession(env.app, 'a');
    const b = adminSession(env.app, 'b');
    await runLines(a, 'conf t', 'hostname shared');
    assert.equal(a.prompt(), 'shared(config)#');
    assert.equal(b.prompt(), 'shared#');
    assert.deepEqual(b.history, []);
    const users = await runLines(b, 'show users');
    assert.match(users, /^ {3}vty 0 .* a\n\* {2}vty 1 .* b\n$/m);
    a.close();
    assert.doesNotMatch(await runLines(b, 'show users'), / a\n/);
  } finally {
    await env.close();
  }
});
