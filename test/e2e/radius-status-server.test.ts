/**
 * Status-Server (RFC 5997) with radclient (freeradius-utils) as the NAS or monitor: `radclient … status`
 * to either port is answered — Access-Accept on the authentication port, Accounting-Response on the
 * accounting port, Proxy-State echoed — only with a Message-Authenticator that verifies, even from a NAS
 * that need not send one with its logins; it is counted, never logged per request, and decides nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminSession, newApp, runLines } from '../helpers/app.ts';
import { radclient } from '../helpers/radclient.ts';
import { freeUdpPort } from '../helpers/ports.ts';

test('Status-Server is answered on both ports with a valid Message-Authenticator, and only then', async () => {
  const [authPort, acctPort] = [await freeUdpPort(), await freeUdpPort()];
  const env = await newApp();
  const s = adminSession(env.app);
  const status = (port: number, o: { secret?: string; ma?: boolean } = {}) =>
    radclient(['Proxy-State = 0xcafe'], { server: `127.0.0.1:${port}`, secret: o.secret ?? 'nassecret', ma: o.ma, type: 'status' });
  try {
    // The NAS entry does not require a Message-Authenticator on its Access-Requests.
    assert.doesNotMatch(
      await runLines(s, 'conf t', 'radius-server local', `server auth-port ${authPort}`, `server acct-port ${acctPort}`, 'nas 127.0.0.1 key nassecret', 'server enable', 'end'),
      /%/,
    );
    const auth = await status(authPort);
    assert.equal(auth.kind, 'accept', auth.out);
    assert.match(auth.out, /Received Access-Accept[^]*Message-Authenticator = 0x[0-9a-f]{32}[^]*Proxy-State = 0xcafe/);
    const acct = await status(acctPort);
    assert.equal(acct.kind, 'accounting-response', acct.out);
    assert.match(acct.out, /Received Accounting-Response[^]*Proxy-State = 0xcafe/);
    for (const port of [authPort, acctPort]) {
      assert.equal((await status(port, { ma: false })).kind, 'none');
      assert.equal((await status(port, { secret: 'wrongsecret' })).kind, 'none');
    }

    const stats = await runLines(s, 'show radius local-server statistics');
    const [server, accounting] = stats.split('Local RADIUS accounting');
    for (const part of [server!, accounting!]) {
      assert.match(part, /Status-Server {8}: 1\n/);
      assert.match(part, /Dropped {14}: 2\n {4}bad-message-authenticator +1\n {4}missing-message-authenticator +1\n/);
    }
    assert.match(server!, /Access-Requests {6}: 0\n/);
    assert.match(accounting!, /Accounting-Requests {2}: 0\n/);
    // Nothing in the audit log for them (the drops are summarised later, as any drop).
    assert.doesNotMatch(await runLines(s, 'show log'), /radius-auth |radius-accounting /);
    await runLines(s, 'clear radius statistics');
    assert.match(await runLines(s, 'show radius local-server statistics'), /Status-Server {8}: 0\n/);
  } finally {
    await env.close();
  }
});
