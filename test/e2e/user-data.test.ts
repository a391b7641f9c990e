/**
 * Device replacement (issue #7, SPEC §9): export on one appliance, import on fresh ones from flash:,
 * a real TFTP server (npm tftp) and an HTTP server on 127.0.0.1; single use, counters and scratch
 * codes survive; merge vs replace; every bad file leaves the store untouched with one `% ` line.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import tftp from 'tftp';
import type { App } from '../../src/app.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { adminSession, newApp, runLines, T0 } from '../helpers/app.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const PORT = 26000 + (process.pid % 3000);

/**
 * A privilege-15 session whose questions are answered from `answers`, in order. What a command printed
 * before a question (`Copying...`) is kept, so `execute` returns the whole output as a user sees it
 * (less the questions themselves and the secret answers).
 */
function sessionAnswering(app: App, answers: string[]) {
  const s = adminSession(app);
  let shown = '';
  s.setHost({
    ask: async (pending) => {
      shown += pending;
      return answers.shift() ?? null;
    },
  });
  return {
    async execute(line: string) {
      const r = await s.execute(line);
      const output = shown + r.output;
      shown = '';
      return { ...r, output };
    },
  };
}

const usersOf = async (app: App) => JSON.stringify(await app.twofa.list());

test('export, then import from flash, TFTP and HTTP; merge and replace; bad files refused', async () => {
  const a = await newApp();
  const fresh: Awaited<ReturnType<typeof newApp>>[] = [];
  const tftpServer = tftp.createServer({ host: '127.0.0.1', port: PORT, root: a.dir, denyPUT: true });
  // The tftp package re-emits a missing file as an 'error' on the request after answering the client
  // with a TFTP ERROR packet; without a listener that would end this test process.
  tftpServer.on('request', (req: { on(event: string, f: () => void): void }) => req.on('error', () => {}));
  const http = createServer((req, res) => {
    try {
      res.end(readFileSync(join(a.dir, req.url!.slice(1))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  try {
    await new Promise<void>((r) => {
      tftpServer.once('listening', () => r());
      tftpServer.listen();
    });
    await new Promise<void>((r) => http.listen(PORT, '127.0.0.1', () => r()));

    // Appliance A: three kinds of users with state worth keeping.
    const sa = sessionAnswering(a.app, ['pw-123456', 'pw-123456']);
    await runLines(sa, 'conf t', 'service 2fa', 'end', `2fa create user alice secret ${SECRET}`, `2fa create user bob secret ${SECRET} hotp`, '2fa create user zed skip-2fa', '2fa user zed email zed@example.com');
    const step = timeStep(T0);
    const code = hotp(base32Decode(SECRET)!, step);
    assert.equal((await a.app.twofa.verify('alice', code)).ok, true);
    assert.equal((await a.app.twofa.verify('bob', hotp(base32Decode(SECRET)!, 1))).ok, true);
    assert.equal((await a.app.twofa.verify('alice', (await a.app.twofa.get('alice'))!.scratch[0]!)).ok, true);
    const out = await runLines(sa, '2fa export user-data');
    const file = /^Successfully exported 2FA user data \(3 users\) to file (atl2fausers-\d{8}-\d{4}\.dat)$/m.exec(out)?.[1];
    assert.ok(file, out);
    assert.match(file, /^atl2fausers-20240303-/);
    const bytes = readFileSync(join(a.dir, file));
    assert.ok(!bytes.includes(Buffer.from(SECRET)) && !bytes.includes(Buffer.from('zed@example.com')), 'the file is encrypted');

    // B, from flash:. Refused while the service is on; then everything arrives.
    const b = await newApp({ files: { [file]: bytes.toString('latin1') } });
    writeFileSync(join(b.dir, file), bytes);
    fresh.push(b);
    const sb = sessionAnswering(b.app, ['pw-123456']);
    await runLines(sb, 'conf t', 'service 2fa', 'end');
    assert.equal(await runLines(sb, `2fa import user-data source flash:/${file}`), '% Disable the 2FA service (no service 2fa) before importing user data\n');
    await runLines(sb, 'conf t', 'no service 2fa', 'end');
    assert.equal(
      await runLines(sb, `2fa import user-data source flash:/${file}`),
      'Copying...\nSuccessful operation\nSuccessfully imported 2FA user data (3 users).\n',
    );
    assert.equal(await usersOf(b.app), await usersOf(a.app));
    // Single use survives the move: the code A accepted is refused on B; HOTP and scratch state too.
    assert.deepEqual(await b.app.twofa.verify('alice', code), { ok: false, reason: 'reused' });
    assert.equal((await b.app.twofa.get('bob'))!.counter, 2);
    assert.deepEqual((await b.app.twofa.get('alice'))!.scratch, (await a.app.twofa.get('alice'))!.scratch);

    // C over TFTP, D over HTTP.
    for (const url of [`tftp://127.0.0.1:${PORT}/${file}`, `http://127.0.0.1:${PORT}/${file}`]) {
      const c = await newApp();
      fresh.push(c);
      const out2 = await runLines(sessionAnswering(c.app, ['pw-123456']), `2fa import user-data source ${url}`);
      assert.equal(out2, 'Copying...\nSuccessful operation\nSuccessfully imported 2FA user data (3 users).\n', url);
      assert.equal(await usersOf(c.app), await usersOf(a.app), url);
    }

    // Merge keeps users the file does not have; replace removes them, atomically.
    const m = await newApp();
    fresh.push(m);
    await runLines(adminSession(m.app), 'conf t', 'service 2fa', 'end', '2fa create user carol random-secret', 'conf t', 'no service 2fa', 'end');
    writeFileSync(join(m.dir, file), bytes);
    await runLines(sessionAnswering(m.app, ['pw-123456']), `2fa import user-data source flash:/${file}`);
    assert.deepEqual((await m.app.twofa.list()).map((u) => u.name), ['alice', 'bob', 'carol', 'zed']);
    await runLines(sessionAnswering(m.app, ['pw-123456']), `2fa import user-data source flash:/${file} replace`);
    assert.deepEqual((await m.app.twofa.list()).map((u) => u.name), ['alice', 'bob', 'zed']);

    // Bad files: one `% ` line each, and the store untouched.
    const e = await newApp();
    fresh.push(e);
    await runLines(adminSession(e.app), 'conf t', 'service 2fa', 'end', '2fa create user keep random-secret', 'conf t', 'no service 2fa', 'end');
    const before = await usersOf(e.app);
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 40] ^= 0x01;
    const version = Buffer.from(bytes);
    version[8] = 9;
    const cases: [string, Buffer | undefined, string, string][] = [
      ['wrong.dat', bytes, 'wrong-password', '% Wrong password, or the file is damaged; nothing was imported'],
      ['truncated.dat', bytes.subarray(0, 30), 'pw-123456', '% Wrong password, or the file is damaged; nothing was imported'],
      ['tampered.dat', tampered, 'pw-123456', '% Wrong password, or the file is damaged; nothing was imported'],
      ['version.dat', version, 'pw-123456', '% Unsupported 2FA user data file version 9'],
      ['foreign.dat', Buffer.from('hostname x\n'.repeat(10)), 'pw-123456', '% The file is not 2FA user data, or it is truncated'],
      ['missing.dat', undefined, 'pw-123456', '% Cannot copy the file: file flash:/missing.dat does not exist'],
    ];
    for (const [name, data, password, error] of cases) {
      if (data) writeFileSync(join(e.dir, name), data);
      const got = await runLines(sessionAnswering(e.app, [password]), `2fa import user-data source flash:/${name}`);
      assert.equal(got.trimEnd().split('\n').pop(), error, name);
      assert.equal(await usersOf(e.app), before, name);
    }
    const http404 = await runLines(sessionAnswering(e.app, ['pw-123456']), `2fa import user-data source http://127.0.0.1:${PORT}/nope.dat`);
    assert.match(http404, /% Cannot copy the file: HTTP 404 Not Found\n$/);
    // A port the HTTP client refuses for being another protocol's (Fetch standard "bad port").
    const badPort = await runLines(sessionAnswering(e.app, ['pw-123456']), '2fa import user-data source http://127.0.0.1:10080/users.dat');
    assert.match(badPort, /% Cannot copy the file: port 10080 is refused for HTTP \(a port of another protocol\); serve the file on another port\n$/);
    const tftpMissing = await runLines(sessionAnswering(e.app, ['pw-123456']), `2fa import user-data source tftp://127.0.0.1:${PORT}/nope.dat`);
    assert.match(tftpMissing, /% Cannot copy the file: .+\n$/);
    const unreachable = await runLines(sessionAnswering(e.app, ['pw-123456']), `2fa import user-data source tftp://127.0.0.1:${PORT + 1}/x.dat`);
    assert.match(unreachable, /% Cannot copy the file: no answer from 127\.0\.0\.1:\d+\n$/);
    assert.equal(await usersOf(e.app), before);
    // Mismatched passwords at export write nothing.
    const files = a.app.flash.list().length;
    assert.equal(await runLines(sessionAnswering(a.app, ['one-long-pw', 'two-long-pw']), '2fa export user-data'), '% The passwords do not match; nothing was exported\n');
    assert.equal(a.app.flash.list().length, files);
  } finally {
    tftpServer.close();
    http.close();
    for (const f of fresh) await f.close();
    await a.close();
  }
});
