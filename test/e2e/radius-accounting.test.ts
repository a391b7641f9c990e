/**
 * RADIUS accounting on the local server (`server acct-port`, RFC 2866) with radclient (freeradius-utils)
 * as the NAS, and raw datagrams for what radclient cannot show (a retransmission byte for byte): each
 * Accounting-Request with the right authenticator is recorded in the audit log, then answered; anything
 * else is dropped and counted. OpenVPN's radiusplugin against it: test/e2e/openvpn.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { Attr, Code, encodePacket, parsePacket, type Attribute } from '../../src/radius/packet.ts';
import { adminSession, newApp, runLines } from '../helpers/app.ts';
import { radclient } from '../helpers/radclient.ts';

const BASE = 24000 + (process.pid % 5000);
const AUTH_PORT = BASE;
const ACCT_PORT = BASE + 1;

const acct = (lines: string[], secret = 'nassecret', port = ACCT_PORT) => radclient(lines, { server: `127.0.0.1:${port}`, secret, type: 'acct' });

/** An Accounting-Request as a NAS builds it: the authenticator is MD5 over the packet and the secret (RFC 2866 §3). */
function accountingRequest(identifier: number, attributes: Attribute[], secret: string): Buffer {
  const pkt = encodePacket(Code.AccountingRequest, identifier, Buffer.alloc(16), attributes);
  createHash('md5').update(pkt).update(secret).digest().copy(pkt, 4);
  return pkt;
}

/** Sends `packets` from one socket and collects the replies (bounded wait). */
async function sendRaw(packets: Buffer[], waitMs = 500): Promise<Buffer[]> {
  const socket = createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (m) => replies.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  for (const p of packets) socket.send(p, ACCT_PORT, '127.0.0.1');
  await new Promise((r) => setTimeout(r, waitMs));
  socket.close();
  return replies;
}

test('Accounting-Requests are recorded in the audit log and answered on server acct-port', async () => {
  const env = await newApp();
  const s = adminSession(env.app);
  try {
    // Without server acct-port nothing answers accounting (AW+'s local server has none).
    assert.doesNotMatch(await runLines(s, 'conf t', 'radius-server local', `server auth-port ${AUTH_PORT}`, 'nas 127.0.0.1 key nassecret', 'server enable', 'end'), /%/);
    assert.equal((await acct(['User-Name = "alice"', 'Acct-Status-Type = Start', 'Acct-Session-Id = "s1"'])).kind, 'none');
    assert.match(await runLines(s, 'show radius local-server statistics'), /Local RADIUS accounting\n {2}State {16}: off \(no server acct-port\)/);

    // One port cannot take both kinds of request.
    assert.match(await runLines(s, 'conf t', 'radius-server local', `server acct-port ${AUTH_PORT}`, 'end'), /% UDP port \d+ cannot take both authentication and accounting requests/);
    assert.doesNotMatch(await runLines(s, 'conf t', 'radius-server local', `server acct-port ${ACCT_PORT}`, 'end'), /%/);
    assert.match(await runLines(s, 'conf t', 'radius-server local', `server auth-port ${ACCT_PORT}`, 'end'), /% UDP port \d+ cannot take both/);
    assert.match(await runLines(s, 'show running-config'), new RegExp(`radius-server local\\n server auth-port ${AUTH_PORT}\\n server acct-port ${ACCT_PORT}\\n`));

    // Start: answered, Proxy-State echoed (RFC 2865 §5.33), recorded with the tunnel address.
    const start = await acct(['User-Name = "alice"', 'Acct-Status-Type = Start', 'Acct-Session-Id = "s1"', 'Framed-IP-Address = 10.8.0.6', 'Calling-Station-Id = "198.51.100.7"', 'Proxy-State = 0xcafe']);
    assert.equal(start.kind, 'accounting-response', start.out);
    assert.match(start.out, /Received Accounting-Response[^]*Proxy-State = 0xcafe/);
    // Stop: the 64-bit counters from their Gigawords (RFC 2869 §5.1), the session time, why it ended.
    const stop = await acct([
      'User-Name = "alice"', 'Acct-Status-Type = Stop', 'Acct-Session-Id = "s1"', 'Acct-Session-Time = 3600', 'Acct-Input-Octets = 1000',
      'Acct-Input-Gigawords = 1', 'Acct-Output-Octets = 2000', 'Acct-Output-Gigawords = 2', 'Acct-Terminate-Cause = Idle-Timeout', 'Acct-Delay-Time = 5',
    ]);
    assert.equal(stop.kind, 'accounting-response', stop.out);
    const log = await runLines(s, 'show log | include radius-accounting client');
    assert.match(log, /radius-accounting client=127\.0\.0\.1 user=alice status=start session=s1 framedIp=10\.8\.0\.6 callingStation=198\.51\.100\.7\n/);
    assert.match(log, /radius-accounting client=127\.0\.0\.1 user=alice status=stop session=s1 delay=5 sessionTime=3600 inputOctets=4294968296 outputOctets=8589936592 terminateCause=idle-timeout\n/);

    // A wrong secret, an Access-Request, a request without Acct-Status-Type: no answer, no record.
    assert.equal((await acct(['User-Name = "mallory"', 'Acct-Status-Type = Start'], 'wrongsecret')).kind, 'none');
    assert.equal((await radclient(['User-Name = "alice"', 'User-Password = "x"'], { server: `127.0.0.1:${ACCT_PORT}`, secret: 'nassecret' })).kind, 'none');
    assert.equal((await acct(['User-Name = "alice"', 'Acct-Session-Id = "s2"'])).kind, 'none');
    // An Acct-Status-Type that is not 4 octets is no status either.
    const oddStatus = accountingRequest(8, [{ type: Attr.UserName, value: Buffer.from('alice') }, { type: Attr.AcctStatusType, value: Buffer.from([0, 1, 0]) }], 'nassecret');
    assert.deepEqual(await sendRaw([oddStatus]), []);
    // A retransmission (same source, Identifier and authenticator) gets the same response and is recorded once.
    const interim = accountingRequest(9, [{ type: Attr.UserName, value: Buffer.from('bob') }, { type: Attr.AcctStatusType, value: Buffer.from([0, 0, 0, 3]) }], 'nassecret');
    const replies = await sendRaw([interim, interim]);
    assert.equal(replies.length, 2);
    assert.deepEqual(replies[0], replies[1]);
    const response = parsePacket(replies[0]!);
    assert.equal(response.code, Code.AccountingResponse);
    // RFC 2866 §3: MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
    const check = Buffer.from(response.raw);
    interim.copy(check, 4, 4, 20);
    assert.deepEqual(createHash('md5').update(check).update('nassecret').digest(), response.authenticator);
    assert.equal((await runLines(s, 'show log | include status=interim-update')).match(/user=bob/g)?.length, 1);

    const stats = await runLines(s, 'show radius local-server statistics');
    assert.match(stats, /Accounting-Requests {2}: 5\n/);
    assert.match(stats, /Accounting-Responses : 3\n/);
    assert.match(stats, /Duplicates answered {2}: 1\n {2}Status-Server {8}: 0\n {2}Dropped {14}: 4\n/);
    assert.match(stats, /bad-request-authenticator +1\n/);
    assert.match(stats, /not-accounting-request +1\n/);
    assert.match(stats, /bad-acct-status-type +2\n/);
    assert.match(stats, /Records by status {4}:\n {4}interim-update +1\n {4}start +1\n {4}stop +1/);

    // An address that is no NAS gets no answer; `no server acct-port` closes the port.
    await runLines(s, 'conf t', 'radius-server local', 'no nas 127.0.0.1', 'end');
    assert.equal((await acct(['User-Name = "alice"', 'Acct-Status-Type = Start', 'Acct-Session-Id = "s3"'])).kind, 'none');
    assert.match(await runLines(s, 'show radius local-server statistics'), /Local RADIUS accounting[^]*unknown-client +1\n/);
    await runLines(s, 'conf t', 'radius-server local', 'nas 127.0.0.1 key nassecret', 'no server acct-port', 'end');
    assert.equal((await acct(['User-Name = "alice"', 'Acct-Status-Type = Start', 'Acct-Session-Id = "s4"'])).kind, 'none');
    assert.doesNotMatch(await runLines(s, 'show running-config'), /acct-port/);
    assert.doesNotMatch(await runLines(s, 'show log | include radius-accounting client'), /session=s[234]/);
  } finally {
    await env.close();
  }
});

test('a saved config with server acct-port boots answering accounting, also when a reboot moves a port from one listener to the other', async () => {
  const saved = ['radius-server local', ` server auth-port ${AUTH_PORT}`, ` server acct-port ${ACCT_PORT}`, ' nas 127.0.0.1 key nassecret', ' user alice password alicepw', ' server enable', ''].join('\n');
  const env = await newApp({ files: { 'default.cfg': saved } });
  let s = adminSession(env.app);
  const login = (port: number) => radclient(['User-Name = "alice"', 'User-Password = "alicepw"'], { server: `127.0.0.1:${port}`, secret: 'nassecret' });
  try {
    assert.equal((await acct(['User-Name = "alice"', 'Acct-Status-Type = Accounting-On'])).kind, 'accounting-response');
    assert.equal((await login(AUTH_PORT)).kind, 'accept');
    // Live, authentication moves onto the accounting port; the saved config still says otherwise. The
    // reboot must take the port back from the authentication socket for accounting.
    assert.doesNotMatch(await runLines(s, 'conf t', 'radius-server local', 'no server acct-port', `server auth-port ${ACCT_PORT}`, 'end'), /%/);
    assert.equal((await login(ACCT_PORT)).kind, 'accept');
    await env.app.reboot();
    // The reboot ended every session.
    s = adminSession(env.app);
    assert.equal((await acct(['User-Name = "alice"', 'Acct-Status-Type = Accounting-On'])).kind, 'accounting-response');
    assert.equal((await login(AUTH_PORT)).kind, 'accept');
    assert.match(await runLines(s, 'show radius local-server statistics'), new RegExp(`Local RADIUS accounting\\n {2}State {16}: listening on UDP ${ACCT_PORT}\\n`));
    // `no radius-server local` forgets the accounting port with the rest.
    await runLines(s, 'conf t', 'no radius-server local', 'radius-server local', 'nas 127.0.0.1 key nassecret', 'server enable', 'end');
    assert.doesNotMatch(await runLines(s, 'show running-config'), /acct-port/);
    assert.equal((await acct(['User-Name = "alice"', 'Acct-Status-Type = Accounting-On'])).kind, 'none');
  } finally {
    await env.close();
  }
});
