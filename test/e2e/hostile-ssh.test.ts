/**
 * Hostile CLI users over SSH against a real daemon (issue #17): a privilege-1 account's output filter
 * must not stall RADIUS, and password guessing is throttled per account as well as per address.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ssh2 from 'ssh2';
import { tempFlash } from '../helpers/app.ts';
import { freePort, freeUdpPort } from '../helpers/ports.ts';
import { startDaemon } from '../helpers/process.ts';
import { RadiusProbe } from '../helpers/radius-probe.ts';

/** Runs one command over SSH (exec channel); its output and exit code, or a timeout. */
function sshExec(port: number, user: string, password: string, command: string, timeoutMs = 20000): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    const timer = setTimeout(() => {
      c.end();
      reject(new Error(`${command}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('ready', () =>
      c.exec(command, (err, stream) => {
        if (err) return reject(err);
        let out = '';
        stream.on('data', (d: Buffer) => (out += d));
        stream.stderr.on('data', (d: Buffer) => (out += d));
        stream.on('exit', (code: number | null) => {
          clearTimeout(timer);
          c.end();
          resolve({ out, code });
        });
      }),
    );
    c.connect({ host: '127.0.0.1', port, username: user, password, readyTimeout: 15000 });
  });
}

test('a privilege-1 SSH user\'s catastrophic output filter neither stalls RADIUS nor runs without bound', async () => {
  const sshPort = await freePort();
  const radiusPort = await freeUdpPort();
  const flash = tempFlash({
    'default.cfg': [
      'username op privilege 1 password oppw1234',
      `ssh server port ${sshPort}`,
      'service ssh',
      'radius-server local',
      ' nas 127.0.0.1 key probekey',
      ' user bob password bobpw',
      ` server auth-port ${radiusPort}`,
      ' server enable',
      '',
    ].join('\n'),
  });
  const daemon = await startDaemon(flash.dir);
  const probe = await RadiusProbe.open(radiusPort, 'probekey');
  try {
    assert.equal(await probe.request('bob', 'bobpw'), 'accept', 'RADIUS does not answer before the test');
    // A pattern that backtracks for longer than the universe on any line of 40 characters.
    const filtered = sshExec(sshPort, 'op', 'oppw1234', 'show version | include (.|.)*Q');
    const results: string[] = [];
    const latencies: number[] = [];
    let done = false;
    void filtered.finally(() => (done = true)).catch(() => {});
    // Probes every 100 ms while the filter runs, 28 at least (the adversarial run lost 18 of 28).
    for (let i = 0; i < 28 || (!done && i < 300); i++) {
      const t = performance.now();
      results.push(await probe.request('bob', i % 2 ? 'bobpw' : 'wrong', 2000));
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await filtered;
    assert.equal(r.out, '', `the filter matched something: ${r.out}`);
    assert.equal(r.code, 0, `exit status ${r.code}`);
    const unanswered = results.filter((x) => x === 'none').length;
    assert.equal(unanswered, 0, `${unanswered} of ${results.length} RADIUS probes unanswered while the filter ran`);
    assert.deepEqual(results.slice(0, 4), ['reject', 'accept', 'reject', 'accept'], 'probes answered wrongly');
    // Generous for a loaded 2-core machine; the stall this guards against lasted 15 s and more.
    assert.ok(Math.max(...latencies) < 1000, `a RADIUS probe took ${Math.max(...latencies).toFixed(0)} ms`);
    // An invalid pattern is refused before the command runs; a valid RE2 one still works.
    const bad = await sshExec(sshPort, 'op', 'oppw1234', 'show version | include (?=lookahead)');
    assert.match(bad.out, /% Invalid regular expression: \(\?=lookahead\)/, bad.out);
    assert.equal(bad.code, 1, 'an invalid pattern did not fail the command');
    const good = await sshExec(sshPort, 'op', 'oppw1234', 'show version | include ^Build (name|type)');
    assert.match(good.out, /^Build name : awplus-2fa-\S+\.rel\nBuild type : RELEASE\n$/, good.out);
  } finally {
    probe.close();
    daemon.child.kill('SIGTERM');
    await daemon.exited();
    flash.cleanup();
  }
});

/** One SSH password login from `localAddress` (any 127/8 address is this host); whether it got in. */
function sshLogin(port: number, user: string, password: string, localAddress: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = new ssh2.Client();
    const timer = setTimeout(() => done(false), 20000);
    function done(ok: boolean) {
      clearTimeout(timer);
      c.end();
      resolve(ok);
    }
    c.on('ready', () => done(true));
    c.on('error', () => done(false));
    c.connect({ host: '127.0.0.1', port, username: user, password, localAddress, readyTimeout: 15000, tryKeyboard: false });
  });
}

test('SSH guessing: many addresses are stopped per account, one address cannot lock an account out', async () => {
  const sshPort = await freePort();
  const flash = tempFlash({
    'default.cfg': ['username alice privilege 15 password alice-pw-1', 'username bob privilege 1 password bob-pw-1', `ssh server port ${sshPort}`, 'service ssh', ''].join('\n'),
  });
  const daemon = await startDaemon(flash.dir);
  try {
    assert.equal(await sshLogin(sshPort, 'alice', 'alice-pw-1', '127.0.0.1'), true, 'alice cannot log in before the attack');
    // Ten addresses, one guess each: no address reaches its own limit.
    const guesses = await Promise.all(Array.from({ length: 10 }, (_, i) => sshLogin(sshPort, 'alice', `guess-${i}`, `127.0.0.${10 + i}`)));
    assert.deepEqual(guesses, Array(10).fill(false), 'a guess got in');
    assert.equal(await sshLogin(sshPort, 'alice', 'alice-pw-1', '127.0.0.50'), false, 'a new address may still try alice\'s password');
    assert.equal(await sshLogin(sshPort, 'alice', 'alice-pw-1', '127.0.0.1'), true, 'alice is locked out of the address she uses');
    // One address hammering bob: throttled itself, bob still logs in from elsewhere.
    const hammer = await Promise.all(Array.from({ length: 12 }, (_, i) => sshLogin(sshPort, 'bob', `guess-${i}`, '127.0.0.99')));
    assert.deepEqual(hammer, Array(12).fill(false), 'a guess got in');
    assert.equal(await sshLogin(sshPort, 'bob', 'bob-pw-1', '127.0.0.98'), true, 'one address locked bob out');
    assert.equal(await sshLogin(sshPort, 'bob', 'bob-pw-1', '127.0.0.99'), false, 'the hammering address got in');
  } finally {
    daemon.child.kill('SIGTERM');
    await daemon.exited();
    flash.cleanup();
  }
});
