/**
 * One login through a real OpenVPN server and its RADIUS plugin (issue #4; real-peers.md §3): an
 * OpenVPN client with `static-challenge` sends SCRV1:base64(password):base64(code); the server's
 * radiusplugin asks our local RADIUS server, which checks the code, then the password, and records
 * the plugin's accounting (Start, and Stop when the client leaves) on `server acct-port`: the plugin
 * refuses a client whose Accounting-Request gets no answer. Needs root and /dev/net/tun for the
 * OpenVPN server's tun device (CI runs as root).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { ApplianceClock } from '../../src/util/clock.ts';
import { adminSession, newApp, runLines } from '../helpers/app.ts';
import { Watched } from '../helpers/process.ts';
import { peer } from '../helpers/peers.ts';
import { Processes, ptyClient, until } from '../openvpn/helpers.ts';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
// radiusplugin truncates 5-digit ports to 4 digits (real-peers.md §3.4): stay below 10000.
const AUTH_PORT = 8000 + (process.pid % 900);
const ACCT_PORT = AUTH_PORT + 1000;
const VPN_PORT = 30000 + (process.pid % 5000);

function pki(dir: string): void {
  const run = (...args: string[]) => execFileSync(peer('openssl'), args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=server');
  writeFileSync(join(dir, 'server.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
}

/**
 * Runs the OpenVPN client on a pty (static-challenge reads the code from a tty), types the code and
 * waits for the outcome. A client still running then is ended with SIGTERM to openvpn itself, not to
 * `script`: it sends its exit notification (explicit-exit-notify) and leaves by itself, so the server
 * ends the session at once instead of after ping-restart. `script`, ended first, stops relaying the
 * pty and SIGKILLs openvpn two seconds later; a client killed before its notification is out leaves
 * the server waiting for ping-restart, and the Stop record with it.
 */
async function connect(dir: string, code: string, procs: Processes): Promise<string> {
  const client = ptyClient(join(dir, 'client.conf'), join(dir, 'creds.txt'), join(dir, 'client.pid'), code, procs);
  const running = () => client.child.exitCode === null && client.child.signalCode === null;
  try {
    await client.out.waitFor(/Initialization Sequence Completed|AUTH_FAILED|Exiting due to fatal error|SIGTERM/, 30000);
  } finally {
    const pid = running() ? client.pid() : undefined;
    if (pid) process.kill(pid, 'SIGTERM');
    else client.child.kill('SIGTERM');
    await until('the OpenVPN client to exit', 15000, () => !running() || undefined);
  }
  return client.out.text;
}

test('OpenVPN client → OpenVPN server + radiusplugin → our RADIUS server with 2FA', async (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/dev/net/tun')) {
    t.skip('the OpenVPN server needs root and /dev/net/tun');
    return;
  }
  const env = await newApp({ clock: new ApplianceClock() });
  const dir = join(env.dir, 'ovpn');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  let server: Watched | undefined;
  const procs = new Processes();
  try {
    const s = adminSession(env.app);
    await runLines(
      s,
      'conf t',
      'service 2fa',
      'radius-server local',
      `server auth-port ${AUTH_PORT}`,
      `server acct-port ${ACCT_PORT}`,
      // radiusplugin sends no Message-Authenticator, so this NAS entry cannot require one.
      'nas 127.0.0.1 key upstreamsecret 2fa',
      'user alice password alicepw',
      'server enable',
      'end',
      `2fa create user alice secret ${SECRET}`,
    );
    pki(dir);
    writeFileSync(
      join(dir, 'radiusplugin.cnf'),
      `NAS-Identifier=OpenVpn\nService-Type=5\nFramed-Protocol=1\nNAS-Port-Type=5\nNAS-IP-Address=127.0.0.1\nOpenVPNConfig=${join(dir, 'server.conf')}\nsubnet=255.255.255.0\noverwriteccfiles=true\nuseauthcontrolfile=false\nserver\n{\n\tacctport=${ACCT_PORT}\n\tauthport=${AUTH_PORT}\n\tname=127.0.0.1\n\tretry=1\n\twait=5\n\tsharedsecret=upstreamsecret\n}\n`,
    );
    const dev = `ovpnaw${process.pid % 1000}`;
    writeFileSync(
      join(dir, 'server.conf'),
      [
        'mode server', 'tls-server', 'proto udp4', 'local 127.0.0.1', `port ${VPN_PORT}`, `dev ${dev}`, 'dev-type tun', 'disable-dco',
        'ifconfig-noexec', 'route-noexec', 'topology subnet', 'ifconfig 10.251.0.1 255.255.255.0', 'ifconfig-pool 10.251.0.2 10.251.0.200 255.255.255.0',
        `ca ${dir}/ca.crt`, `cert ${dir}/server.crt`, `key ${dir}/server.key`, 'dh none', 'verify-client-cert none', 'username-as-common-name',
        `status ${dir}/status.log 1`, `client-config-dir ${dir}/ccd`, `plugin /usr/lib/openvpn/radiusplugin.so ${dir}/radiusplugin.cnf`,
        `tmp-dir ${dir}/tmp`, 'keepalive 10 60', 'verb 3',
      ].join('\n') + '\n',
    );
    mkdirSync(join(dir, 'ccd'));
    writeFileSync(join(dir, 'creds.txt'), 'alice\nalicepw\n', { mode: 0o600 });
    writeFileSync(
      join(dir, 'client.conf'),
      [
        'client', 'proto udp4', `remote 127.0.0.1 ${VPN_PORT}`, 'nobind',
        `ca ${dir}/ca.crt`, 'remote-cert-tls server', 'static-challenge "Enter OTP" 1',
        'auth-retry none', 'connect-retry-max 1', 'explicit-exit-notify 1', 'verb 3',
      ].join('\n') + '\n',
    );
    server = new Watched(spawn(peer('openvpn'), ['--config', join(dir, 'server.conf')], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await server.waitFor(/Initialization Sequence Completed/, 30000);

    const code = hotp(base32Decode(SECRET)!, timeStep(env.app.clock.now()));
    const ok = await connect(dir, code, procs);
    assert.match(ok, /Initialization Sequence Completed/, ok);
    // The same code again: refused by the single-use rule, so OpenVPN refuses the client.
    const replay = await connect(dir, code, procs);
    assert.match(replay, /AUTH_FAILED/, replay);
    const log = await runLines(s, 'show log | include radius-auth');
    assert.match(log, /radius-auth user=alice client=127\.0\.0\.1 result=accept reason=ok-totp/);
    assert.match(log, /radius-auth user=alice client=127\.0\.0\.1 result=reject reason=reused/);
    // The plugin's accounting, answered here: Start with the tunnel address, then Stop once the client
    // has said it leaves (explicit-exit-notify), with the session's traffic. The server ends a session
    // 5 seconds after the client's exit notification ("Delayed exit in 5 seconds"), so Stop trails it.
    const accounting = () => runLines(s, 'show log | include radius-accounting client');
    assert.match(await accounting(), /radius-accounting client=127\.0\.0\.1 user=alice status=start session=\S+ framedIp=10\.251\.0\.\d+/);
    for (let i = 0; i < 100 && !/status=stop/.test(await accounting()); i++) await new Promise((r) => setTimeout(r, 200));
    const records = await accounting();
    // Without a Stop, everything that says where it was lost: our drops and counters, both peers' logs.
    if (!/status=stop/.test(records)) assert.fail(`${await runLines(s, 'show log | include radius-acc')}\n${await runLines(s, 'show radius local-server statistics')}\nclient:\n${ok}\nserver:\n${server!.out}`);
    assert.match(records, /radius-accounting client=127\.0\.0\.1 user=alice status=stop session=\S+ .*inputOctets=\d+ outputOctets=\d+/, records);
  } finally {
    await procs.killAll();
    server?.child.kill('SIGTERM');
    await server?.exited(5000);
    await env.close();
  }
});
