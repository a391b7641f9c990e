/**
 * The management protocol (framing, CLIENT blocks, quoting, status 3), the TCP client against a
 * scripted server, the CRV1 format, and the login bridge's decisions. Transcripts are as OpenVPN
 * 2.6.14 printed them on this machine.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import type { LoginDecision, LoginRequest } from '../../src/auth/types.ts';
import { AuthBridge, answerCommand, type LoginSettings } from '../../src/openvpn/auth-bridge.ts';
import { crv1Challenge, parseCrv1Response } from '../../src/openvpn/crv1.ts';
import { ManagementClient } from '../../src/openvpn/management.ts';
import { ClientEventParser, LineSplitter, parseStatus3, quoteArg, type ClientEvent } from '../../src/openvpn/management-protocol.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';

const CONNECT = [
  'CONNECT,0,1',
  'ENV,n_clients=0',
  'ENV,password=SCRV1:YWxpY2Vwdw==:MTIzNDU2',
  'ENV,session_id=fE0+iagmTeBn6X0L',
  'ENV,session_state=Initial',
  'ENV,untrusted_port=56380',
  'ENV,untrusted_ip=127.0.0.1',
  'ENV,username=alice',
  'ENV,IV_VER=2.6.14',
  'ENV,END',
];

const STATUS3 = [
  'TITLE\tOpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [LZ4] [EPOLL] [PKCS11] [MH/PKTINFO] [AEAD] [DCO]',
  'TIME\t2026-11-30 13:19:40\t1796044780',
  'HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tVirtual IPv6 Address\tBytes Received\tBytes Sent\tConnected Since\tConnected Since (time_t)\tUsername\tClient ID\tPeer ID\tData Channel Cipher',
  'CLIENT_LIST\talice\t127.0.0.1:59704\t10.213.0.2\t\t962\t1993\t2026-11-30 13:19:39\t1796044779\talice\t1\t1\tAES-256-GCM',
  'CLIENT_LIST\tUNDEF\t127.0.0.1:40000\t\t\t10\t20\t2026-11-30 13:19:41\t1796044781\tUNDEF\t2\t2\tNone',
  'HEADER\tROUTING_TABLE\tVirtual Address\tCommon Name\tReal Address\tLast Ref\tLast Ref (time_t)',
  'ROUTING_TABLE\t10.213.0.2\talice\t127.0.0.1:59704\t2026-11-30 13:19:39\t1796044779',
  'GLOBAL_STATS\tMax bcast/mcast queue length\t0',
];

function parse(lines: string[]): ClientEvent[] {
  const p = new ClientEventParser();
  return lines.map((l) => p.line(l)).filter((e): e is ClientEvent => e !== undefined);
}

test('lines: LF or CRLF, split across chunks, bytes kept as latin1', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(Buffer.from('SUCCESS: a\r\n>INF')), ['SUCCESS: a']);
  assert.deepEqual(s.push(Buffer.from([0x4f, 0x3a, 0xe9, 0x0a, 0x45])), ['>INFO:\xe9']);
  assert.equal(s.rest, 'E');
  assert.equal(Buffer.from('>INFO:\xe9', 'latin1').at(-1), 0xe9);
});

test('CLIENT blocks: header, ENV lines, END; values keep "="; ADDRESS is one line', () => {
  const events = parse([...CONNECT, 'ADDRESS,1,10.213.0.2,1', 'ENV,stray=1', 'ESTABLISHED,1', 'ENV,common_name=alice', 'ENV,END', 'DISCONNECT,0', 'ENV,END']);
  assert.equal(events.length, 4);
  const [c, a, e, d] = events;
  assert.equal(c!.kind, 'CONNECT');
  assert.equal(c!.cid, 0);
  assert.equal(c!.kid, 1);
  assert.equal(c!.env.get('password'), 'SCRV1:YWxpY2Vwdw==:MTIzNDU2');
  assert.equal(c!.env.get('username'), 'alice');
  assert.deepEqual([a!.kind, a!.cid, a!.detail], ['ADDRESS', 1, '10.213.0.2']);
  assert.deepEqual([e!.kind, e!.cid, e!.env.get('common_name')], ['ESTABLISHED', 1, 'alice']);
  assert.equal(e!.env.has('stray'), false);
  assert.deepEqual([d!.kind, d!.cid, d!.env.size], ['DISCONNECT', 0, 0]);
});

test('quoting for the management lexer', () => {
  assert.equal(quoteArg('plain'), '"plain"');
  assert.equal(quoteArg('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
  assert.equal(quoteArg('two\nlines\r'), '"two lines "');
});

test('status 3: clients by header name', () => {
  const r = parseStatus3(STATUS3);
  assert.equal(r.time, 1796044780);
  assert.deepEqual(r.clients[0], {
    commonName: 'alice',
    username: 'alice',
    realAddress: '127.0.0.1:59704',
    virtualAddress: '10.213.0.2',
    bytesReceived: 962,
    bytesSent: 1993,
    connectedSince: 1796044779,
    clientId: 1,
    cipher: 'AES-256-GCM',
  });
  assert.equal(r.clients[1]!.username, 'UNDEF');
  assert.equal(r.clients[1]!.virtualAddress, '');
  assert.deepEqual(parseStatus3([]).clients, []);
});

test('CRV1: the challenge string and the answer', () => {
  const token = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
  assert.equal(crv1Challenge(token, 'carol', 'Enter the code: sent\nby mail'), 'CRV1:R,E:3q2+7wD/:Y2Fyb2w=:Enter the code: sent by mail');
  const ok = parseCrv1Response(Buffer.from('CRV1::3q2+7wD/::12:34::56'));
  assert.ok(ok && ok !== 'malformed');
  assert.deepEqual(ok.token, token);
  assert.equal(ok.response.toString(), '12:34::56');
  assert.equal(parseCrv1Response(Buffer.from('secret')), undefined);
  assert.equal(parseCrv1Response(Buffer.from('CRV1::::123')), 'malformed');
  assert.equal(parseCrv1Response(Buffer.from('CRV1::abc')), 'malformed');
  assert.equal(parseCrv1Response(Buffer.from('CRV1::ab$c::1')), 'malformed');
  assert.equal(parseCrv1Response(Buffer.from('CRV1::abc::1')), 'malformed'); // not whole base64
});

test('answers as management commands', () => {
  assert.deepEqual(answerCommand(3, 1, { kind: 'accept', reason: 'ok' }), ['client-auth-nt 3 1']);
  assert.deepEqual(answerCommand(3, 1, { kind: 'accept', reason: 'ok', config: ['push "route 10.1.0.0 255.255.0.0"'] }), [
    'client-auth 3 1',
    'push "route 10.1.0.0 255.255.0.0"',
    'END',
  ]);
  assert.deepEqual(answerCommand(3, 2, { kind: 'deny', reason: 'bad-code' }), ['client-deny 3 2 "bad-code"']);
  assert.deepEqual(answerCommand(3, 2, { kind: 'deny', reason: 'challenge', clientReason: 'CRV1:R,E:AA==:YQ==:Code?' }), [
    'client-deny 3 2 "challenge" "CRV1:R,E:AA==:YQ==:Code?"',
  ]);
});

/** A fake management server: scripted replies, records what it received. */
async function fakeServer(onLine: (line: string, sock: Socket) => void): Promise<{ port: number; close: () => void; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((sock) => {
    sockets.push(sock);
    sock.write('ENTER PASSWORD:');
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        onLine(line, sock);
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test('management client: password prompt, ordered answers, notifications in between, END reports, errors', async (t) => {
  const received: string[] = [];
  const srv = await fakeServer((line, sock) => {
    received.push(line);
    if (line === 'sesame') sock.write('SUCCESS: password is correct\r\n>INFO:OpenVPN Management Interface Version 5\r\n');
    else if (line === 'hold release') sock.write('>HOLD:Waiting for hold release:0\r\nSUCCESS: hold release succeeded\r\n');
    else if (line === 'status 3') sock.write(`${STATUS3.slice(0, 4).join('\r\n')}\r\n>CLIENT:ESTABLISHED,1\r\n>CLIENT:ENV,common_name=alice\r\n>CLIENT:ENV,END\r\nEND\r\n`);
    else if (line === 'client-kill 9') sock.write('ERROR: client-kill command failed\r\n');
    else if (line === 'END') sock.write('SUCCESS: client-auth command succeeded\r\n');
  });
  t.after(srv.close);
  const notices: string[] = [];
  const clients: ClientEvent[] = [];
  const m = await ManagementClient.connect({
    port: srv.port,
    password: 'sesame',
    timeoutMs: 3000,
    // The banner comes in the same packet as the password answer: it must reach these.
    onNotice: (l) => notices.push(l),
    onClient: (e) => clients.push(e),
  });
  const [hold, status] = await Promise.all([m.command('hold release'), m.report('status 3')]);
  assert.equal(hold, 'SUCCESS: hold release succeeded');
  assert.equal(status.length, 4);
  assert.equal(parseStatus3(status).clients[0]!.username, 'alice');
  assert.deepEqual(notices, ['>INFO:OpenVPN Management Interface Version 5', '>HOLD:Waiting for hold release:0']);
  assert.equal(clients.length, 1);
  await assert.rejects(m.command('client-kill 9'), /ERROR: client-kill command failed/);
  assert.equal(await m.block(['client-auth 1 2', 'push "x"', 'END']), 'SUCCESS: client-auth command succeeded');
  assert.deepEqual(received, ['sesame', 'hold release', 'status 3', 'client-kill 9', 'client-auth 1 2', 'push "x"', 'END']);
  // The server goes away: pending and later commands fail, close listeners run.
  let closed = false;
  m.onClose(() => (closed = true));
  const pending = m.command('never answered');
  srv.sockets[0]!.destroy();
  await assert.rejects(pending, /closed/);
  assert.equal(closed, true);
  await assert.rejects(m.command('x'), /closed/);
});

test('management client: wrong password and nobody listening are errors, within the bound', async (t) => {
  const srv = await fakeServer((line, sock) => {
    if (line !== 'right') sock.end('ERROR: bad password\r\n');
  });
  t.after(srv.close);
  await assert.rejects(ManagementClient.connect({ port: srv.port, password: 'wrong', timeoutMs: 500 }), /refused the password|did not answer/);
  const free = createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  const port = (free.address() as { port: number }).port;
  await new Promise<void>((r) => free.close(() => r()));
  const started = performance.now();
  await assert.rejects(ManagementClient.connect({ port, password: 'x', timeoutMs: 400 }), /did not answer within 400 ms/);
  assert.ok(performance.now() - started < 2000);
});

// ---- the login bridge ----

const SETTINGS: LoginSettings = { mode: 'on', codeInPassword: true, firstFactor: { check: async () => ({ answer: 'accept' }) } };

function bridgeWith(decide: (r: LoginRequest) => LoginDecision | Promise<LoginDecision>) {
  const calls: LoginRequest[] = [];
  const log = memoryLog();
  const clock = new ManualClock(1_000_000);
  const bridge = new AuthBridge({
    tunnel: 'tunnel0',
    login: async (r) => {
      calls.push(r);
      return decide(r);
    },
    settings: (tunnel) => {
      assert.equal(tunnel, 'tunnel0');
      return SETTINGS;
    },
    log,
    clock,
  });
  return { bridge, calls, log, clock };
}

function request(kind: 'CONNECT' | 'REAUTH', cid: number, env: Record<string, string>): ClientEvent {
  return { kind, cid, kid: 1, env: new Map(Object.entries({ untrusted_ip: '127.0.0.1', untrusted_port: '5000', session_state: 'Initial', ...env })) };
}

test('bridge: SCRV1 and 2fa-in-password bytes reach the login function unchanged, with the tunnel settings', async () => {
  const { bridge, calls, log } = bridgeWith(() => ({ kind: 'accept', reason: 'ok-totp' }));
  // Bytes as OpenVPN hands them over: a latin1 string per byte (a UTF-8 "é" is two bytes).
  const raw = Buffer.from('SCRV1:cMOp:MTIzNDU2', 'utf8');
  const answer = await bridge.judge(request('CONNECT', 0, { username: 'alice', password: raw.toString('latin1'), session_id: 'S1' }));
  assert.deepEqual(answer, { kind: 'accept', reason: 'ok-totp' });
  assert.equal(calls.length, 1);
  const r = calls[0]!;
  assert.equal(r.user, 'alice');
  assert.deepEqual(r.password, raw);
  assert.equal(r.challenge, undefined);
  assert.equal(r.client, 'openvpn:tunnel0');
  assert.equal(r.mode, 'on');
  assert.equal(r.codeInPassword, true);
  assert.equal(r.firstFactor, SETTINGS.firstFactor);
  const high = Buffer.from([0x70, 0x77, 0xe9, 0x31, 0x32]);
  await bridge.judge(request('CONNECT', 1, { username: 'bob', password: high.toString('latin1') }));
  assert.deepEqual(calls[1]!.password, high);
  // The audit line names user, address and result, never the password or code.
  const text = JSON.stringify(log.events);
  assert.match(text, /"user":"alice".*"from":"127.0.0.1:5000".*"result":"accept"/);
  assert.doesNotMatch(text, /SCRV1|MTIzNDU2|cMOp|pw\u00e9/);
});

test('bridge: a challenge becomes a CRV1 deny; the answer maps back to the token and the response', async () => {
  const token = Buffer.from('opaque-token-01');
  const { bridge, calls, log } = bridgeWith((r) =>
    r.challenge ? (r.challenge.equals(token) && r.password.toString() === '654321' ? { kind: 'accept', reason: 'ok-email' } : { kind: 'reject', reason: 'bad-code' }) : { kind: 'challenge', reason: 'challenge-email', token, prompt: 'Enter the code we e-mailed' },
  );
  const first = await bridge.judge(request('CONNECT', 0, { username: 'carol', password: 'carolpw' }));
  assert.deepEqual(first, { kind: 'deny', reason: 'challenge-email', clientReason: `CRV1:R,E:${token.toString('base64')}:Y2Fyb2w=:Enter the code we e-mailed` });
  const second = await bridge.judge(request('CONNECT', 1, { username: 'carol', password: `CRV1::${token.toString('base64')}::654321` }));
  assert.deepEqual(second, { kind: 'accept', reason: 'ok-email' });
  assert.deepEqual(calls[1]!.challenge, token);
  assert.equal(calls[1]!.password.toString(), '654321');
  const bad = await bridge.judge(request('CONNECT', 2, { username: 'carol', password: 'CRV1::not base64!::1' }));
  assert.deepEqual(bad, { kind: 'deny', reason: 'malformed challenge response' });
  assert.equal(calls.length, 2);
  assert.ok(log.events.some((e) => e.fields.result === 'challenge'));
  assert.doesNotMatch(JSON.stringify(log.events), /654321|carolpw/);
});

test('bridge: rejects carry a plain message only; keywords a client acts on are dropped', async () => {
  let message: string | undefined = 'Account locked';
  const { bridge } = bridgeWith(() => ({ kind: 'reject', reason: 'locked', ...(message ? { message } : {}) }));
  assert.deepEqual(await bridge.judge(request('CONNECT', 0, { username: 'a', password: 'x' })), { kind: 'deny', reason: 'locked', clientReason: 'Account locked' });
  message = 'TEMP[backoff 1]: later';
  assert.deepEqual(await bridge.judge(request('CONNECT', 1, { username: 'a', password: 'x' })), { kind: 'deny', reason: 'locked' });
  message = undefined;
  assert.deepEqual(await bridge.judge(request('CONNECT', 2, { username: 'a', password: 'x' })), { kind: 'deny', reason: 'locked' });
  assert.deepEqual(await bridge.judge(request('CONNECT', 3, { username: '', password: 'x' })), { kind: 'deny', reason: 'no user name' });
});

test('bridge: session tokens are judged without the login function; cleared sessions are refused', async () => {
  const { bridge, calls, clock } = bridgeWith(() => ({ kind: 'accept', reason: 'ok-totp' }));
  await bridge.judge(request('CONNECT', 4, { username: 'alice', password: 'SCRV1:x:y', session_id: 'SESS-A' }));
  assert.equal(calls.length, 1);
  // Renegotiation with a valid token (session_state from auth-gen-token external-auth).
  const token = 'SESS_ID_AT_xxxxxxxx';
  assert.deepEqual(await bridge.judge(request('REAUTH', 4, { username: 'alice', password: token, session_state: 'Authenticated', session_id: 'SESS-A' })), {
    kind: 'accept',
    reason: 'session-token',
  });
  // Renegotiation without a token from a client we accepted: kept, the cached code is not replayed.
  assert.deepEqual(await bridge.judge(request('REAUTH', 4, { username: 'alice', password: 'SCRV1:x:y', session_id: 'SESS-A' })), { kind: 'accept', reason: 'renegotiation' });
  assert.equal(calls.length, 1);
  // Expired or invalid tokens: refused with SESSION: so the client drops the token and logs in again.
  for (const state of ['Expired', 'Invalid', 'AuthenticatedEmptyUser', 'ExpiredEmptyUser']) {
    const a = await bridge.judge(request('CONNECT', 5, { username: 'alice', password: token, session_state: state, session_id: 'SESS-A' }));
    assert.equal(a.kind, 'deny', state);
    assert.match((a as { clientReason: string }).clientReason, /^SESSION:/);
  }
  // Cleared: the token of that session is refused on reconnection and on renegotiation.
  bridge.revokeClient(4);
  const again = await bridge.judge(request('CONNECT', 6, { username: 'alice', password: token, session_state: 'Authenticated', session_id: 'SESS-A' }));
  assert.deepEqual(again, { kind: 'deny', reason: 'session cleared', clientReason: 'SESSION: session ended, log in again' });
  const reauth = await bridge.judge(request('REAUTH', 4, { username: 'alice', password: 'SCRV1:x:y', session_id: 'SESS-A' }));
  assert.equal(reauth.kind, 'accept'); // asked the login function again (it accepts here)
  assert.equal(calls.length, 2);
  // The revocation outlives the token (24 h), then is forgotten.
  clock.advance(86_400_001);
  assert.equal((await bridge.judge(request('CONNECT', 7, { username: 'alice', password: token, session_state: 'Authenticated', session_id: 'SESS-A' }))).kind, 'accept');
  // A REAUTH of a client this server never accepted goes to the login function.
  bridge.reset();
  await bridge.judge(request('REAUTH', 4, { username: 'alice', password: 'SCRV1:x:y' }));
  assert.equal(calls.length, 3);
  // Another user on the same client id is not the session we accepted.
  await bridge.judge(request('CONNECT', 8, { username: 'alice', password: 'p' }));
  await bridge.judge(request('REAUTH', 8, { username: 'mallory', password: 'p' }));
  assert.equal(calls.length, 5);
});

test('bridge: a login function that throws denies and logs an error, without the password', async () => {
  const { bridge, log } = bridgeWith(() => {
    throw new Error('store unreachable');
  });
  assert.deepEqual(await bridge.judge(request('CONNECT', 0, { username: 'alice', password: 'hunter2' })), { kind: 'deny', reason: 'internal error' });
  const err = log.events.find((e) => e.level === 'error');
  assert.deepEqual(err?.fields, { tunnel: 'tunnel0', user: 'alice', error: 'store unreachable' });
  assert.doesNotMatch(JSON.stringify(log.events), /hunter2/);
});
