/**
 * A crafted 2FA user-data file (issue #17): its header asks scrypt for N = 2^20, r = 16, p = 4, which
 * once took ~30 s of the event loop and 2.2 GB before the tag could say the file was not genuine. Now
 * the parameters are bounded by what an export uses and refused at once, over flash, HTTP and TFTP;
 * a genuine file's key is derived off the event loop.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import tftp from 'tftp';
import type { App } from '../../src/app.ts';
import { decodeUserData, encodeUserData } from '../../src/twofa/user-data.ts';
import { newUser } from '../../src/twofa/types.ts';
import { adminSession, newApp, runLines } from '../helpers/app.ts';
import { freePort, freeUdpPort } from '../helpers/ports.ts';

const PASSWORD = 'pw-123456';

/** A session whose password question is answered with `password`. */
function answering(app: App, password: string) {
  const s = adminSession(app);
  s.setHost({ ask: async () => password });
  return s;
}

test('a file asking scrypt for more than an export uses is refused at once, from flash, HTTP and TFTP', async () => {
  const env = await newApp();
  const httpPort = await freePort();
  const tftpPort = await freeUdpPort();
  const genuine = await encodeUserData([newUser('alice', 'totp', 0, { secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' })], PASSWORD, 0);
  const crafted = Buffer.from(genuine);
  crafted.set([20, 16, 4], 9); // log2 N, r, p: what the adversarial run used
  writeFileSync(join(env.dir, 'crafted.dat'), crafted);
  const http = createServer((_req, res) => res.end(crafted));
  const tftpServer = tftp.createServer({ host: '127.0.0.1', port: tftpPort, root: env.dir, denyPUT: true });
  tftpServer.on('request', (req: { on(event: string, f: () => void): void }) => req.on('error', () => {}));
  try {
    await new Promise<void>((r) => http.listen(httpPort, '127.0.0.1', () => r()));
    await new Promise<void>((r) => {
      tftpServer.once('listening', () => r());
      tftpServer.listen();
    });
    const rssBefore = process.memoryUsage().rss;
    for (const url of ['flash:/crafted.dat', `http://127.0.0.1:${httpPort}/crafted.dat`, `tftp://127.0.0.1:${tftpPort}/crafted.dat`]) {
      const t = performance.now();
      const out = await runLines(answering(env.app, PASSWORD), `2fa import user-data source ${url}`);
      const ms = performance.now() - t;
      assert.equal(out.trimEnd().split('\n').pop(), '% The file asks for a stronger key derivation than an export makes; nothing was imported', `${url}: ${out}`);
      assert.ok(ms < 3000, `${url}: took ${ms.toFixed(0)} ms`);
      assert.deepEqual(await env.app.twofa.list(), [], `${url}: something was imported`);
    }
    const grew = (process.memoryUsage().rss - rssBefore) / 1048576;
    assert.ok(grew < 200, `RSS grew by ${grew.toFixed(0)} MB`);
    // Parameters one step beyond ours on each axis are refused too.
    for (const [logN, r, p] of [[16, 8, 1], [15, 9, 1], [15, 8, 2]] as const) {
      const f = Buffer.from(genuine);
      f.set([logN, r, p], 9);
      await assert.rejects(decodeUserData(f, PASSWORD), (e: Error & { kind?: string }) => e.kind === 'too-costly', `${logN}/${r}/${p}`);
    }
  } finally {
    await new Promise((r) => http.close(r));
    tftpServer.close();
    await env.close();
  }
});

test('a genuine file\'s key is derived off the event loop', async () => {
  const file = await encodeUserData([newUser('alice', 'totp', 0, { secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' })], PASSWORD, 0);
  let turned = 0;
  const ticker = setInterval(() => turned++, 1);
  try {
    const users = await decodeUserData(file, PASSWORD);
    assert.deepEqual(users.map((u) => u.name), ['alice']);
  } finally {
    clearInterval(ticker);
  }
  // scrypt with N = 2^15 takes ~100 ms: on the event loop no timer could have fired meanwhile.
  assert.ok(turned >= 3, `the event loop turned ${turned} times while the key was derived`);
});
