/**
 * `interface tunnelN` in the CLI (issue #15): settings, the running config, every refusal with its
 * `% ` line and nothing changed, the ports of the appliance's own listeners and of other programs,
 * the client profile, and the server held while a startup config is applied. The OpenVPN program is
 * pointed at a path that does not exist, so these run the same on any host and show how the
 * appliance reports a server that cannot run; test/e2e/openvpn-server.test.ts runs the real one.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { openvpnLogin } from '../../src/features/openvpn/settings.ts';
import { factoryConfig } from '../../src/config/model.ts';
import { adminSession, newApp, runLines } from '../helpers/app.ts';

const NO_OPENVPN = { openvpnPath: '/nonexistent/openvpn' };

async function withApp(files: Record<string, string>, body: (env: Awaited<ReturnType<typeof newApp>>) => Promise<void>): Promise<void> {
  const env = await newApp({ files, openvpn: NO_OPENVPN });
  try {
    await body(env);
  } finally {
    await env.close();
  }
}

/** Runs `line` and asserts it is refused with exactly `error`, leaving the running config as it was. */
async function refused(env: Awaited<ReturnType<typeof newApp>>, s: ReturnType<typeof adminSession>, line: string, error: RegExp): Promise<void> {
  const before = env.app.renderRunning();
  const r = await s.execute(line);
  assert.equal(r.ok, false, `${line} was accepted`);
  assert.match(r.output, error);
  assert.equal(r.output.split('\n').filter(Boolean).length, 1, r.output);
  assert.equal(env.app.renderRunning(), before, `${line} changed the config`);
}

test('interface tunnelN: (config-if)# settings, defaults omitted, mode after the settings, interfaces in order', async () => {
  await withApp({}, async (env) => {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'interface tunnel10');
    assert.equal(s.prompt(), 'awplus(config-if)#');
    const out = await runLines(
      s,
      'tunnel openvpn port 1194',
      'tunnel openvpn protocol tcp',
      'tunnel openvpn push route 10.1.0.0/16',
      'tunnel openvpn push route 10.2.0.0/16',
      'tunnel openvpn push route 10.1.0.0/16',
      'tunnel openvpn remote vpn.example.com',
      'ip address 192.168.20.1/24',
      'shutdown',
      'tunnel mode openvpn tap',
      'interface Tunnel2',
      'tunnel mode openvpn tun',
      'exit',
    );
    assert.equal(out, '');
    assert.equal(s.prompt(), 'awplus(config)#');
    assert.equal(
      env.app.renderRunning('interface'),
      [
        '!',
        'interface tunnel2',
        ' tunnel mode openvpn tun',
        '!',
        'interface tunnel10',
        ' tunnel openvpn protocol tcp',
        ' tunnel openvpn remote vpn.example.com',
        ' tunnel openvpn push route 10.1.0.0/16',
        ' tunnel openvpn push route 10.2.0.0/16',
        ' tunnel mode openvpn tap',
        ' ip address 192.168.20.1/24',
        ' shutdown',
        '!',
        'end',
        '',
      ].join('\n'),
    );
    assert.equal(await runLines(s, 'do show running-config interface'), env.app.renderRunning('interface'));
    // `no` forms restore the defaults; `no interface` removes the block.
    // (tunnel2 goes first: it holds udp 1194, which tunnel10 gets back with its default protocol.)
    assert.equal(await runLines(s, 'no interface tunnel2', 'interface tunnel10', 'no tunnel openvpn protocol', 'no tunnel openvpn remote', 'no tunnel openvpn push route 10.1.0.0/16', 'no ip address', 'no shutdown', 'no tunnel mode', 'exit'), '');
    assert.equal(env.app.renderRunning('interface'), '!\ninterface tunnel10\n tunnel openvpn push route 10.2.0.0/16\n!\nend\n');
    await refused(env, s, 'no interface tunnel2', /^% Interface tunnel2 does not exist\n$/);
    await runLines(s, 'interface tunnel10');
    await refused(env, s, 'no tunnel openvpn push route 10.9.0.0/16', /^% tunnel10 does not push route 10\.9\.0\.0\/16\n$/);
    const r = await s.execute('interface tunnel100000');
    assert.equal(r.ok, false);
    assert.match(r.output, /^ +\^\n% Invalid input detected at '\^' marker\.\n$/);
  });
});

test('bad addresses and routes are refused with the reason, nothing changed', async () => {
  await withApp({}, async (env) => {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'interface tunnel0', 'tunnel mode openvpn tun');
    await refused(env, s, 'ip address 192.168.20.1/31', /^% tunnel0: prefix length \/31 is outside \/16–\/30 for a tunnel subnet\n$/);
    await refused(env, s, 'ip address 10.0.0.1/8', /^% tunnel0: prefix length \/8 is outside/);
    await refused(env, s, 'ip address 192.168.20.0/24', /^% tunnel0: 192\.168\.20\.0\/24 is the network or broadcast address of its subnet, not a host address\n$/);
    await refused(env, s, 'ip address 192.168.20.255/24', /network or broadcast address/);
    await refused(env, s, 'tunnel openvpn push route 10.1.2.3/16', /^% tunnel0: route 10\.1\.2\.3\/16 has host bits set \(did you mean 10\.1\.0\.0\/16\?\)\n$/);
    await refused(env, s, 'tunnel openvpn push route 0.0.0.0/0', /^% tunnel0: route 0\.0\.0\.0\/0 \(a default route\) cannot be pushed\n$/);
  });
});

test('subnets and ports are checked across tunnels, shut-down ones included', async () => {
  await withApp({}, async (env) => {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'interface tunnel0', 'tunnel openvpn port 11194', 'tunnel mode openvpn tun', 'ip address 192.168.20.1/24', 'shutdown', 'interface tunnel1');
    await refused(env, s, 'ip address 192.168.0.1/16', /^% tunnel1: subnet 192\.168\.0\.1\/16 overlaps tunnel0 \(192\.168\.20\.1\/24\)\n$/);
    // A tunnel without a mode holds no port yet, so its port may be set first...
    assert.equal(await runLines(s, 'tunnel openvpn port 11194'), '');
    // ...but it cannot become a server on a port another tunnel has, even a shut-down one.
    await refused(env, s, 'tunnel mode openvpn tun', /^% tunnel1: udp port 11194 is already used by tunnel0\n$/);
    assert.equal(await runLines(s, 'tunnel openvpn protocol tcp', 'tunnel mode openvpn tun'), '');
    await refused(env, s, 'tunnel openvpn protocol udp', /^% tunnel1: udp port 11194 is already used by tunnel0\n$/);
    // A subnet without a mode still counts: the interface owns it.
    await runLines(s, 'interface tunnel2', 'ip address 172.16.0.1/24', 'interface tunnel3');
    await refused(env, s, 'ip address 172.16.0.129/25', /^% tunnel3: subnet 172\.16\.0\.129\/25 overlaps tunnel2/);
  });
});

test('a tunnel cannot take the port of the local RADIUS server, the SSH server or another program', async () => {
  const busy = createSocket('udp4');
  await new Promise<void>((r) => busy.bind(0, '0.0.0.0', () => r()));
  const taken = busy.address().port;
  try {
    await withApp({}, async (env) => {
      const s = adminSession(env.app);
      await runLines(s, 'conf t', 'radius-server local', 'server auth-port 11812', 'server enable', 'exit', 'ssh server port 11822', 'service ssh', 'interface tunnel0', 'ip address 192.168.20.1/24', 'tunnel openvpn port 11812');
      await refused(env, s, 'tunnel mode openvpn tun', /^% tunnel0: udp port 11812 is already used by the local RADIUS server \(server auth-port\)\n$/);
      await runLines(s, 'tunnel openvpn port 11822', 'tunnel openvpn protocol tcp');
      await refused(env, s, 'tunnel mode openvpn tun', /^% tunnel0: tcp port 11822 is already used by the SSH server \(ssh server port\)\n$/);
      await runLines(s, 'no tunnel openvpn protocol', `tunnel openvpn port ${taken}`);
      // Another program holds the port: refused when the tunnel would start listening on it.
      await refused(env, s, 'tunnel mode openvpn tun', new RegExp(`^% tunnel0: udp port ${taken} is in use on this host \\(EADDRINUSE\\)\\n$`));
      // Shut down it would not listen, so it is taken; starting it is refused.
      await runLines(s, 'shutdown', 'tunnel mode openvpn tun');
      await refused(env, s, 'no shutdown', /is in use on this host/);
      // Once the RADIUS server is off, its port is free for a tunnel.
      await runLines(s, 'exit', 'radius-server local', 'no server enable', 'interface tunnel0');
      assert.match(await runLines(s, 'tunnel openvpn port 11812'), /^$/);
    });
  } finally {
    busy.close();
  }
});

test('a server that cannot run is reported at once and in show interface; the profile still prints', async () => {
  await withApp({}, async (env) => {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'interface tunnel0', 'tunnel mode openvpn tun');
    // No address yet: not expected to run, so no warning.
    const out = await runLines(s, 'tunnel openvpn port 11195', 'ip address 192.168.20.1/24');
    assert.equal(out, '% Warning: tunnel0 is not running: the openvpn program (/nonexistent/openvpn) is not installed: install the Debian package "openvpn" (apt-get install openvpn)\n');
    const show = await runLines(s, 'do show interface tunnel0');
    assert.match(show, /^Interface tunnel0\n  Link is DOWN, administrative state is UP\n  Hardware is Tunnel\n  IPv4 address 192\.168\.20\.1\/24\n/);
    assert.match(show, /^  Tunnel protocol\/transport +: OpenVPN TUN, UDP port 11195$/m);
    assert.match(show, /^  Client addresses +: 192\.168\.20\.2 to 192\.168\.20\.254 \(253\)$/m);
    assert.match(show, /^  OpenVPN server +: cannot run \(the openvpn program \(\/nonexistent\/openvpn\) is not installed/m);
    assert.ok(env.log.events.some((e) => e.event === 'openvpn-unavailable' && e.fields.tunnel === 'tunnel0'));
    await runLines(s, 'shutdown');
    assert.match(await runLines(s, 'do show interface tunnel0'), /administrative state is DOWN\n[\s\S]*OpenVPN server +: down \(shutdown\)$/m);
    await runLines(s, 'interface tunnel1', 'ip address 10.9.0.1/24');
    assert.match(await runLines(s, 'do show interface tunnel1'), /^  OpenVPN server : none \(no tunnel mode openvpn\)$/m);
    await refused(env, s, 'do show interface tunnel5', /^% Interface tunnel5 does not exist\n$/);
    assert.equal(await runLines(s, 'do show openvpn connections'), 'No OpenVPN clients are connected\n');
    await refused(env, s, 'do clear openvpn connection bob', /^% User bob has no OpenVPN connection\n$/);
  });
});

test('show openvpn client-config: a complete profile; remote, static challenge and the note follow the config', async () => {
  await withApp({}, async (env) => {
    const s = adminSession(env.app);
    await runLines(s, 'conf t', 'hostname vpn1', 'interface tunnel0', 'tunnel openvpn port 11196', 'ip address 192.168.20.1/24');
    await refused(env, s, 'do show openvpn client-config tunnel0', /^% tunnel0 is not an OpenVPN tunnel: set "tunnel mode openvpn tun" \(or tap\) first\n$/);
    await runLines(s, 'tunnel mode openvpn tun');
    let profile = await runLines(s, 'do show openvpn client-config tunnel0');
    assert.match(profile, /^# OpenVPN client profile for tunnel0 of vpn1\n# The server address below is the hostname \(vpn1\): if clients reach the appliance by another name or address, set it with "tunnel openvpn remote HOST"\nclient\n/);
    assert.match(profile, /^remote vpn1 11196$/m);
    assert.match(profile, /^static-challenge "Verification Code:" 1$/m);
    assert.match(profile, /^<ca>\n-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n<\/ca>\n$/m);
    // The CA was made once in the private directory; the profile carries the same one every time.
    assert.equal(await runLines(s, 'do show openvpn client-config tunnel0'), profile);
    await runLines(s, 'tunnel openvpn remote 203.0.113.7', 'tunnel openvpn protocol tcp');
    profile = await runLines(s, 'do show openvpn client-config tunnel0');
    assert.doesNotMatch(profile, /tunnel openvpn remote HOST/);
    assert.match(profile, /^proto tcp-client\nremote 203\.0\.113\.7 11196$/m);
    // Logins with the password alone (aaa without 2fa): the client must not ask for a code.
    await runLines(s, 'aaa authentication openvpn default group radius');
    assert.doesNotMatch(await runLines(s, 'do show openvpn client-config tunnel0'), /static-challenge/);
    await runLines(s, 'aaa authentication openvpn default group radius 2fa');
    assert.match(await runLines(s, 'do show openvpn client-config tunnel0'), /^static-challenge /m);
  });
});

test('logins to the embedded server follow aaa authentication openvpn', () => {
  const cfg = factoryConfig(() => 'x');
  const source = { check: async () => ({ answer: 'reject' as const }) };
  assert.deepEqual(openvpnLogin(cfg, source), { mode: 'on', codeInPassword: false, firstFactor: source });
  cfg.aaa.openvpn = { group: 'radius', twofa: true, inPassword: true };
  assert.deepEqual(openvpnLogin(cfg, source), { mode: 'on', codeInPassword: true, firstFactor: source });
  cfg.aaa.openvpn = { group: 'radius', twofa: false, inPassword: false };
  assert.deepEqual(openvpnLogin(cfg, source), { mode: 'off', codeInPassword: false, firstFactor: source });
});

test('the OpenVPN server is held while the startup config is applied, and the private directory is in flash', async () => {
  const boot = '!\ninterface tunnel0\n tunnel openvpn port 11197\n tunnel mode openvpn tun\n ip address 192.168.20.1/24\n!\nend\n';
  await withApp({ 'default.cfg': boot }, async (env) => {
    assert.deepEqual(env.report.errors, []);
    const names = env.log.events.map((e) => e.event);
    const booted = names.indexOf('booted');
    assert.ok(booted >= 0);
    const first = names.findIndex((n) => n.startsWith('openvpn-'));
    assert.ok(first > booted, `an openvpn event came before the config was applied: ${names.join(' ')}`);
    assert.deepEqual(
      env.app.openvpn.status().map((st) => [st.name, st.state]),
      [['tunnel0', 'failed']],
    );
    // Dot-files are internal: `dir` does not list the server's directory.
    assert.doesNotMatch(await runLines(adminSession(env.app), 'show openvpn client-config tunnel0', 'dir'), /\.openvpn/);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(`${env.dir}/.openvpn`).mode & 0o777, 0o700);
    assert.equal(statSync(`${env.dir}/.openvpn/ca.key`).mode & 0o777, 0o600);
  });
});
