/**
 * Durability under load (issue #8, SPEC §10): `kill -9` the daemon while valid logins arrive over
 * RADIUS, restart it, and replay every code that got an Access-Accept: every one is refused as reused,
 * and no user is lost. Bounded: a fixed number of requests, every wait with a timeout.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { App } from '../../src/app.ts';
import { encodeRequest, hidePassword } from '../../src/radius/crypto.ts';
import { Attr, parsePacket } from '../../src/radius/packet.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { memoryLog } from '../../src/util/log.ts';
import { runLines, adminSession, tempFlash } from '../helpers/app.ts';
import { runAwplus, startDaemon } from '../helpers/process.ts';

const PORT = 24000 + (process.pid % 1000);
const USERS = 400;
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Sends one Access-Request per user (up to 40 in flight); resolves with the users that got an Accept. */
async function loginAll(users: string[], code: string, onAccept: (n: number) => void): Promise<Set<string>> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const secret = Buffer.from('crashsecret');
  const waiting = new Map<number, { user: string; done: () => void }>();
  const accepted = new Set<string>();
  socket.on('message', (msg) => {
    const reply = parsePacket(msg);
    const w = waiting.get(reply.identifier);
    if (!w) return;
    waiting.delete(reply.identifier);
    if (reply.code === 2) {
      accepted.add(w.user);
      onAccept(accepted.size);
    }
    w.done();
  });
  let next = 0;
  let id = 0;
  const worker = async () => {
    while (next < users.length) {
      const user = users[next++]!;
      const auth = randomBytes(16);
      const identifier = id++ & 0xff;
      const pkt = encodeRequest(identifier, auth, [
        { type: Attr.UserName, value: Buffer.from(user) },
        { type: Attr.UserPassword, value: hidePassword(Buffer.from(`SCRV1:${b64('pw')}:${b64(code)}`), secret, auth) },
      ], secret);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(identifier);
          resolve();
        }, 1500);
        waiting.set(identifier, { user, done: () => (clearTimeout(timer), resolve()) });
        socket.send(pkt, PORT, '127.0.0.1', (e) => e && resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: 40 }, worker));
  socket.close();
  return accepted;
}

test('kill -9 during a load of valid logins: every accepted code is refused after the restart', async () => {
  const flash = tempFlash();
  try {
    // Prepare: 400 TOTP users with one secret, local users with one password, a 2fa NAS.
    const setup = await App.start({ flash: flash.dir, log: memoryLog() });
    await runLines(
      adminSession(setup),
      'conf t', 'service 2fa', 'radius-server local', `server auth-port ${PORT}`, 'nas 127.0.0.1 key crashsecret 2fa',
      'user seed password pw', 'server enable', 'end',
    );
    const hash = setup.config.current.radius.local.users.get('seed')!;
    setup.config.update((c) => {
      for (let i = 0; i < USERS; i++) c.radius.local.users.set(`u${i}`, hash);
    });
    await runLines(adminSession(setup), 'write memory');
    const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
    await Promise.all(users.map((u) => setup.twofa.createUser(u, { secret: SECRET })));
    await setup.stop();

    let daemon = await startDaemon(flash.dir);
    const code = hotp(base32Decode(SECRET)!, timeStep(Date.now()));
    // Kill the daemon outright once some logins were accepted, while the rest are still arriving.
    const accepted = await loginAll(users, code, (n) => {
      if (n === 60) daemon.child.kill('SIGKILL');
    });
    await daemon.exited();
    assert.ok(accepted.size >= 60 && accepted.size < USERS, `accepted ${accepted.size}`);

    daemon = await startDaemon(flash.dir);
    try {
      const replayed = await loginAll([...accepted], code, () => {});
      assert.equal(replayed.size, 0, `replayed codes accepted for ${[...replayed].join(', ')}`);
      const after = await runAwplus(['connect', '--flash', flash.dir], 'show 2fa | include Users\nshow log | include radius-auth.*result=reject reason=reused\n');
      assert.match(after.stdout, new RegExp(`Users +: ${USERS} \\(TOTP ${USERS},`));
      assert.equal(after.stdout.split('\n').filter((l) => /reason=reused/.test(l) && !l.startsWith('awplus#')).length, accepted.size);
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited();
    }
  } finally {
    flash.cleanup();
  }
});
