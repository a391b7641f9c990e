/**
 * The flash directory and what reaches stderr, under an unlucky operator (issue #17): secrets in a
 * failing boot-config line, `write memory` on a full flash, a flash directory open to other users.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { App } from '../../src/app.ts';
import { FlashPermissionError } from '../../src/util/flash.ts';
import { memoryLog } from '../../src/util/log.ts';
import { adminSession, fixedClock, newApp, runLines, tempFlash } from '../helpers/app.ts';
import { peer } from '../helpers/peers.ts';
import { runAwplus, startDaemon } from '../helpers/process.ts';

const isRoot = process.getuid?.() === 0;
const NEEDS_ROOT = isRoot ? false : 'needs root (mount a tmpfs, run as another user): skipped';

const SECRETS = ['TopSecret1', 'Pw1234567', 'MailPw99', 'LdapPw77', 'NasKey55', 'PgPw42', 'SealedXyz'];
const BOOT = [
  'radius-server host 10.0.0.9 key TopSecret1 bogus',
  'username bob privilege 15 password Pw1234567 extra',
  'username carol privilege 15 password 8 SealedXyz',
  'mail smtpserver authentication plain username u password MailPw99 junk',
  'ldap-server corp',
  ' bind-dn "cn=reader,dc=example,dc=com" password LdapPw77 junk',
  'radius-server local',
  ' nas 10.0.0.1 k NasKey55 nonsense',
  '2fa store postgresql postgresql://u:PgPw42@db.example/awplus',
  'hostname ok',
  '',
].join('\n');

test('a failing boot-config line is reported with its keys and passwords masked, on stderr and in the log', async () => {
  const flash = tempFlash({ 'default.cfg': BOOT });
  try {
    const r = await runAwplus(['--flash', flash.dir], 'show log\nshow running-config | include hostname\n');
    const all = r.stdout + r.stderr;
    for (const s of SECRETS) assert.ok(!all.includes(s), `${s} appears in the console's output:\n${all}`);
    assert.match(r.stderr, /% Error in flash:\/default\.cfg line 1 "radius-server host 10\.0\.0\.9 key \*\*\*\* bogus"/, r.stderr);
    assert.match(r.stderr, /line 9 "2fa store postgresql postgresql:\/\/u:\*\*\*\*@db\.example\/awplus"/, r.stderr);
    assert.match(r.stdout, /boot-config-error/, 'no boot error in show log');
    assert.match(r.stdout, /^hostname ok$/m, 'the rest of the file was not applied');
    const daemon = await startDaemon(flash.dir);
    daemon.child.kill('SIGTERM');
    await daemon.exited();
    for (const s of SECRETS) assert.ok(!daemon.out.includes(s), `${s} appears in the daemon's output:\n${daemon.out}`);
    assert.match(daemon.out, /key \*\*\*\* bogus/, daemon.out);
  } finally {
    flash.cleanup();
  }
});

/** A tmpfs of `size` mounted on a new directory (owner-only), unmounted by the returned function. */
function smallFlash(size: string): { dir: string; [Symbol.dispose](): void } {
  const root = mkdtempSync(join(tmpdir(), 'awplus-smallflash-'));
  const dir = join(root, 'flash');
  mkdirSync(dir);
  execFileSync(peer('mount'), ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  return {
    dir,
    [Symbol.dispose]() {
      try {
        execFileSync(peer('umount'), [dir]);
        rmSync(root, { recursive: true, force: true });
      } catch (e) {
        process.stderr.write(`cleanup of ${dir} failed: ${(e as Error).message}\n`);
      }
    },
  };
}

/** Fills the file system of `dir` to the last byte with a file named `name`. */
function fill(dir: string, name = 'filler'): void {
  for (const chunk of [65536, 4096, 512, 1]) {
    try {
      for (;;) appendFileSync(join(dir, name), Buffer.alloc(chunk, 0x78));
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC', `filling ${dir}`);
    }
  }
}

test('write memory on a full flash: a clear error, and no temporary file left behind', { skip: NEEDS_ROOT }, async () => {
  using flash = smallFlash('2m');
  const env = await newApp({ dir: flash.dir });
  try {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'hostname full', 'end');
    fill(flash.dir);
    const out = await runLines(s, 'write memory');
    assert.match(out, /^% Cannot write flash:\/default\.cfg: .*(ENOSPC|no space)/im, out);
    const leftovers = readdirSync(flash.dir).filter((n) => n.includes('.tmp-'));
    assert.deepEqual(leftovers, [], 'a temporary file was left on flash');
    assert.ok(!existsSync(join(flash.dir, 'default.cfg')), 'a default.cfg appeared although the write failed');
    // Space returns: the same command works.
    rmSync(join(flash.dir, 'filler'));
    assert.match(await runLines(s, 'write memory'), /\[OK\]/);
    assert.match(await runLines(s, 'show startup-config'), /^hostname full$/m);
  } finally {
    await env.close();
  }
});

test('a flash directory open to other users is made owner-only; one that is not ours to change is refused', async () => {
  // An existing appliance flash left at 0755: made 0700 at boot, and said so in the log.
  const flash = tempFlash({ 'default.cfg': 'hostname loose\n' });
  const other = mkdtempSync(join(tmpdir(), 'awplus-notflash-'));
  try {
    chmodSync(flash.dir, 0o755);
    const env = await newApp({ dir: flash.dir });
    try {
      await runLines(adminSession(env.app), 'conf t', 'service 2fa', 'end', '2fa create user alice random-secret');
      assert.equal(statSync(flash.dir).mode & 0o777, 0o700, 'the flash directory is still open to others');
      assert.ok(env.log.events.some((e) => e.event === 'flash-permissions-tightened' && e.fields['from'] === '0755'), 'not logged');
      if (isRoot) {
        // Another user can neither list the flash nor read the store.
        const asNobody = (...args: string[]) => execFileSync(peer('setpriv'), ['--reuid=65534', '--regid=65534', '--clear-groups', ...args], { stdio: 'pipe' });
        assert.throws(() => asNobody('ls', join(flash.dir, '.2fa-users')), /Permission denied|EACCES|status 2/, 'another user can list the store');
      }
    } finally {
      await env.close();
    }
    // A directory with other files in it (a home directory, /tmp): refused, left as it was.
    writeFileSync(join(other, 'notes.txt'), 'mine\n');
    chmodSync(other, 0o755);
    await assert.rejects(App.start({ flash: other, log: memoryLog(), clock: fixedClock() }), (e) => e instanceof FlashPermissionError && /chmod 700/.test(e.message));
    assert.equal(statSync(other).mode & 0o777, 0o755, 'a directory that is not a flash was changed');
    const r = await runAwplus(['--flash', other], '');
    assert.equal(r.code, 1, 'the command line did not fail');
    assert.match(r.stderr, /^awplus: flash directory .* is open to other users \(mode 0755\) .*chmod 700/m, r.stderr);
    assert.ok(!/\n\s+at /.test(r.stderr), `a stack trace:\n${r.stderr}`);
    if (isRoot) {
      // One owned by another user: refused, never chmod-ed under its owner's feet.
      rmSync(join(other, 'notes.txt'));
      chownSync(other, 65534, 65534);
      await assert.rejects(App.start({ flash: other, log: memoryLog(), clock: fixedClock() }), (e) => e instanceof FlashPermissionError && /another user/.test(e.message));
    }
  } finally {
    flash.cleanup();
    rmSync(other, { recursive: true, force: true });
  }
});
