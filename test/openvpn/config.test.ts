/**
 * Tunnel settings → addresses, validation and the generated server config (SPEC §15). The configs
 * these functions produce are also run by the real openvpn in supervisor.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planAddresses } from '../../src/openvpn/addressing.ts';
import { overlaps, parseAddress, parsePrefix } from '../../src/openvpn/ipv4.ts';
import { quoteValue, serverConfig, type ServerRuntime } from '../../src/openvpn/server-config.ts';
import { tunnelSettings } from '../../src/openvpn/settings.ts';
import { checkPortFree, checkTunnel, checkTunnels, notRunning } from '../../src/openvpn/validate.ts';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const RT: ServerRuntime = {
  device: 'tun0',
  managementPort: 40000,
  managementPasswordFile: '/f/t0/management.pw',
  caPath: '/f/ca.crt',
  certPath: '/f/server.crt',
  keyPath: '/f/server.key',
  tokenSecretPath: '/f/auth-token.key',
  statusPath: '/f/t0/status.log',
  configureHost: true,
};

test('addresses and prefixes parse strictly', () => {
  assert.equal(parseAddress('10.0.0.1'), 0x0a000001);
  assert.equal(parseAddress('255.255.255.255'), 0xffffffff);
  for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.1.2', ' 10.0.0.1', '1e1.0.0.1']) assert.equal(parseAddress(bad), undefined, bad);
  assert.deepEqual(parsePrefix('192.168.1.7/24'), { address: 0xc0a80107, length: 24 });
  for (const bad of ['192.168.1.7', '192.168.1.7/33', '192.168.1.7/024', '192.168.1.7/']) assert.equal(parsePrefix(bad), undefined, bad);
  assert.equal(overlaps(parsePrefix('10.0.0.0/16')!, parsePrefix('10.0.200.0/24')!), true);
  assert.equal(overlaps(parsePrefix('10.0.0.0/24')!, parsePrefix('10.0.1.0/24')!), false);
});

test('the server keeps its configured address; the pool is the larger run of the other hosts', () => {
  assert.deepEqual(planAddresses('10.8.0.1/24'), {
    prefix: parsePrefix('10.8.0.1/24'),
    server: '10.8.0.1',
    netmask: '255.255.255.0',
    poolStart: '10.8.0.2',
    poolEnd: '10.8.0.254',
    poolSize: 253,
  });
  const mid = planAddresses('10.8.0.200/24');
  assert.ok(typeof mid !== 'string');
  assert.deepEqual([mid.server, mid.poolStart, mid.poolEnd], ['10.8.0.200', '10.8.0.1', '10.8.0.199']);
  const last = planAddresses('10.8.0.254/24');
  assert.ok(typeof last !== 'string');
  assert.deepEqual([last.poolStart, last.poolEnd], ['10.8.0.1', '10.8.0.253']);
  const p30 = planAddresses('10.9.0.1/30');
  assert.ok(typeof p30 !== 'string');
  assert.deepEqual([p30.poolStart, p30.poolEnd, p30.poolSize], ['10.9.0.2', '10.9.0.2', 1]);
  assert.match(planAddresses('10.8.0.0/24') as string, /network or broadcast/);
  assert.match(planAddresses('10.8.0.255/24') as string, /network or broadcast/);
  assert.match(planAddresses('10.8.0.1/31') as string, /outside \/16–\/30/);
  assert.match(planAddresses('10.8.0.1/8') as string, /outside \/16–\/30/);
  assert.match(planAddresses('10.8.0.1') as string, /A\.B\.C\.D\/M/);
});

test('one tunnel: name, port, address, routes', () => {
  assert.deepEqual(checkTunnel(tunnelSettings('tunnel0', { address: '10.8.0.1/24', routes: ['192.168.1.0/24'] })), []);
  assert.deepEqual(checkTunnel(tunnelSettings('tunnel1', { port: 0 })), ['tunnel1: port 0 is outside 1–65535']);
  assert.deepEqual(checkTunnel(tunnelSettings('tunnel1', { port: 65536 })), ['tunnel1: port 65536 is outside 1–65535']);
  assert.deepEqual(checkTunnel(tunnelSettings('tunnelX')), ['tunnelX is not a tunnel interface name (tunnelN)']);
  assert.deepEqual(checkTunnel(tunnelSettings('tunnel0', { routes: ['192.168.1.1/24'] })), [
    'tunnel0: route 192.168.1.1/24 has host bits set (did you mean 192.168.1.0/24?)',
  ]);
  assert.deepEqual(checkTunnel(tunnelSettings('tunnel0', { routes: ['0.0.0.0/0'] })), ['tunnel0: route 0.0.0.0/0 (a default route) cannot be pushed']);
  assert.deepEqual(checkTunnel(tunnelSettings('tunnel0', { routes: ['192.168.1.0'] })), [
    'tunnel0: route 192.168.1.0 is not an address with a prefix length (A.B.C.D/M)',
  ]);
  assert.deepEqual(checkTunnel(tunnelSettings('tunnel0', { address: '10.8.0.0/24' })), [
    'tunnel0: 10.8.0.0/24 is the network or broadcast address of its subnet, not a host address',
  ]);
});

test('the set: overlapping subnets and port conflicts, only between running tunnels for ports', () => {
  const t0 = tunnelSettings('tunnel0', { address: '10.8.0.1/24' });
  assert.deepEqual(checkTunnels([t0, tunnelSettings('tunnel1', { address: '10.8.0.129/25', port: 1195 })]), [
    'tunnel1: subnet 10.8.0.129/25 overlaps tunnel0 (10.8.0.1/24)',
  ]);
  assert.deepEqual(checkTunnels([t0, tunnelSettings('tunnel1', { address: '10.9.0.1/24' })]), ['tunnel1: udp port 1194 is already used by tunnel0']);
  // Same port number, other protocol: two different sockets.
  assert.deepEqual(checkTunnels([t0, tunnelSettings('tunnel1', { address: '10.9.0.1/24', protocol: 'tcp' })]), []);
  // A shut-down tunnel binds nothing.
  assert.deepEqual(checkTunnels([t0, tunnelSettings('tunnel1', { address: '10.9.0.1/24', shutdown: true })]), []);
  assert.deepEqual(checkTunnels([t0], [{ protocol: 'udp', port: 1194, owner: 'radius-server local' }]), [
    'tunnel0: udp port 1194 is already used by radius-server local',
  ]);
  assert.deepEqual(checkTunnels([t0, t0]), ['tunnel0 is configured twice', 'tunnel0: subnet 10.8.0.1/24 overlaps tunnel0 (10.8.0.1/24)', 'tunnel0: udp port 1194 is already used by tunnel0']);
  assert.equal(notRunning(tunnelSettings('tunnel0')), 'no ip address');
  assert.equal(notRunning({ ...t0, shutdown: true }), 'administratively down (shutdown)');
  assert.equal(notRunning(t0), undefined);
});

test('a port another program holds is reported; a free one is not', async () => {
  const tcp = createServer();
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  try {
    const tport = (tcp.address() as { port: number }).port;
    const uport = udp.address().port;
    assert.match((await checkPortFree('tcp', tport, '127.0.0.1'))!, new RegExp(`tcp port ${tport} is in use on this host \\(EADDRINUSE\\)`));
    assert.match((await checkPortFree('udp', uport, '127.0.0.1'))!, new RegExp(`udp port ${uport} is in use`));
  } finally {
    tcp.close();
    udp.close();
  }
  // The ports were just released by the kernel: free again.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const free = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  assert.equal(await checkPortFree('tcp', free, '127.0.0.1'), undefined);
});

test('tun server config: spelled-out server helper with the configured address', () => {
  const t = tunnelSettings('tunnel0', { address: '10.8.0.1/24', routes: ['192.168.1.0/24', '172.16.0.0/12', '192.168.1.0/24'] });
  const text = serverConfig(t, { ...RT, listenAddress: '127.0.0.1' });
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(lines, [
    'mode server',
    'tls-server',
    'dev tun0',
    'dev-type tun',
    'proto udp4',
    'port 1194',
    'local 127.0.0.1',
    'disable-dco',
    'topology subnet',
    'ifconfig 10.8.0.1 255.255.255.0',
    'ifconfig-pool 10.8.0.2 10.8.0.254 255.255.255.0',
    'push "topology subnet"',
    'push "route-gateway 10.8.0.1"',
    'push "route 192.168.1.0 255.255.255.0"',
    'push "route 172.16.0.0 255.240.0.0"',
    'ca "/f/ca.crt"',
    'cert "/f/server.crt"',
    'key "/f/server.key"',
    'dh none',
    'tls-version-min 1.2',
    'verify-client-cert none',
    'username-as-common-name',
    'management 127.0.0.1 40000 "/f/t0/management.pw"',
    'management-client-auth',
    'management-hold',
    'auth-gen-token 0 3600 external-auth',
    'auth-gen-token-secret "/f/auth-token.key"',
    'keepalive 10 60',
    'persist-key',
    'persist-tun',
    'status "/f/t0/status.log" 60',
    'verb 3',
    'explicit-exit-notify 1',
  ]);
});

test('tap and tcp variants; reneg and host-configuration knobs', () => {
  const tap = serverConfig(tunnelSettings('tunnel3', { mode: 'tap', protocol: 'tcp', port: 443, address: '10.8.3.100/24', renegSeconds: 5 }), {
    ...RT,
    device: 'tap3',
    configureHost: false,
  });
  assert.match(tap, /^dev tap3\ndev-type tap\nproto tcp4-server\nport 443\n/m);
  assert.doesNotMatch(tap, /topology/); // tap takes no topology (openvpn(8) --topology)
  assert.match(tap, /^ifconfig 10\.8\.3\.100 255\.255\.255\.0\nifconfig-pool 10\.8\.3\.101 10\.8\.3\.254 255\.255\.255\.0\npush "route-gateway 10\.8\.3\.100"\n/m);
  assert.doesNotMatch(tap, /explicit-exit-notify/); // UDP only
  assert.match(tap, /^reneg-sec 5$/m);
  // The token renewal time may not go below 2 × hand-window (OpenVPN refuses to start).
  assert.match(tap, /^auth-gen-token 0 120 external-auth$/m);
  assert.match(tap, /^ifconfig-noexec\nroute-noexec\n$/m);
});

test('config generation refuses what cannot run', () => {
  assert.throws(() => serverConfig(tunnelSettings('tunnel0'), RT), /tunnel0 cannot run: no ip address/);
  assert.throws(() => serverConfig(tunnelSettings('tunnel0', { address: '10.8.0.1/24', shutdown: true }), RT), /shutdown/);
  assert.throws(() => serverConfig(tunnelSettings('tunnel0', { address: '10.8.0.1/8' }), RT), /outside/);
  assert.throws(() => serverConfig(tunnelSettings('tunnel0', { address: '10.8.0.1/24' }), { ...RT, device: 'a-device-name-too-long' }), /bad device name/);
  assert.equal(quoteValue('/a b/"c"\\d'), '"/a b/\\"c\\"\\\\d"');
  assert.throws(() => quoteValue('a\nb'), /line break/);
});
