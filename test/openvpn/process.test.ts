/**
 * The child cannot outlive the appliance (SPEC §15, issue #15: no orphan after `kill -9`), and a
 * host without openvpn, setpriv or /dev/net/tun gets a message naming what to install.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { preflight } from '../../src/openvpn/process.ts';
import { tunnelSettings } from '../../src/openvpn/settings.ts';
import { OpenVpnSupervisor } from '../../src/openvpn/supervisor.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';
import { freeUdpPort, isAlive, Output, Processes, realPeerSkipReason, until } from './helpers.ts';

const FIXTURE = new URL('./fixtures/supervise.ts', import.meta.url).pathname;

test('kill -9 of the process that runs the supervisor takes the openvpn child with it', { skip: realPeerSkipReason() }, async (t) => {
  const procs = new Processes();
  const root = mkdtempSync(join(tmpdir(), 'ovpn-orphan-'));
  t.after(async () => {
    await procs.killAll();
    rmSync(root, { recursive: true, force: true });
  });
  const parent = spawn(process.execPath, ['--import', 'tsx', FIXTURE, join(root, 'openvpn'), String(await freeUdpPort()), `ovk${process.pid}`, `198.18.${process.pid % 250}.1/24`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.add(parent.pid);
  const out = new Output(parent);
  const m = await out.waitFor(/READY (\d+)|FAILED .*/, 30_000);
  assert.ok(m[1], m[0]);
  const child = Number(m[1]);
  procs.add(child);
  assert.ok(isAlive(child), 'openvpn runs');
  // The child of the supervisor is openvpn itself (setpriv execs it), not a wrapper.
  assert.match(readFileSync(`/proc/${child}/comm`, 'utf8'), /^openvpn/);
  process.kill(parent.pid!, 'SIGKILL');
  // PR_SET_PDEATHSIG: the kernel sends SIGKILL to openvpn when its parent dies.
  await until('openvpn to die with its parent', 3000, () => !isAlive(child) || undefined);
});

test('a host without openvpn, setpriv or /dev/net/tun gets a message naming what to install', async (t) => {
  assert.match(preflight({ openvpnPath: '/nonexistent/openvpn' }) as string, /install the Debian package "openvpn" \(apt-get install openvpn\)/);
  assert.match(preflight({ openvpnPath: 'no-such-openvpn-binary' }) as string, /no-such-openvpn-binary\) is not installed/);
  assert.match(preflight({ setprivPath: '/nonexistent/setpriv' }) as string, /install the Debian package "util-linux"/);
  assert.match(preflight({ tunDevice: '/nonexistent/net/tun' }) as string, /\/nonexistent\/net\/tun is missing: the OpenVPN server needs the kernel TUN\/TAP driver/);
  // Through the supervisor: the tunnel is "failed" with that reason, logged, and no child runs.
  const root = mkdtempSync(join(tmpdir(), 'ovpn-missing-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const log = memoryLog();
  const sup = new OpenVpnSupervisor({
    dir: join(root, 'openvpn'),
    log,
    clock: new ManualClock(0),
    login: async () => ({ kind: 'reject', reason: 'x' }),
    loginSettings: () => ({ mode: 'on', codeInPassword: false, firstFactor: { check: async () => ({ answer: 'reject' }) } }),
    tunDevice: '/nonexistent/net/tun',
  });
  assert.match(sup.unavailable()!, /\/nonexistent\/net\/tun is missing/);
  await sup.apply([tunnelSettings('tunnel0', { address: '10.8.0.1/24' })]);
  const st = sup.status()[0]!;
  assert.equal(st.state, 'failed');
  assert.match(st.reason!, /\/nonexistent\/net\/tun is missing/);
  assert.equal(st.pid, undefined);
  assert.equal(log.events.find((e) => e.event === 'openvpn-unavailable')?.level, 'error');
  await sup.stop();
});

test('a child that cannot start is started again with doubling delays, and comes up once it can', { skip: realPeerSkipReason() }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ovpn-backoff-'));
  const port = await freeUdpPort();
  // Another program holds the tunnel's port: openvpn fails to bind it and exits.
  const blocker = createSocket('udp4');
  await new Promise<void>((r) => blocker.bind(port, '127.0.0.1', r));
  const log = memoryLog();
  const sup = new OpenVpnSupervisor({
    dir: join(root, 'openvpn'),
    log,
    clock: new ManualClock(0),
    login: async () => ({ kind: 'reject', reason: 'x' }),
    loginSettings: () => ({ mode: 'on', codeInPassword: false, firstFactor: { check: async () => ({ answer: 'reject' }) } }),
    listenAddress: '127.0.0.1',
    configureHost: false,
    deviceName: () => `ovb${process.pid}`,
    backoff: { initialMs: 200, maxMs: 800 },
    stopTimeoutMs: 500,
  });
  let blocking = true;
  const procs = new Processes();
  t.after(async () => {
    if (blocking) blocker.close();
    const pid = sup.status()[0]?.pid;
    try {
      await sup.stop();
    } finally {
      procs.add(pid);
      await procs.killAll();
      rmSync(root, { recursive: true, force: true });
    }
  });
  await sup.apply([tunnelSettings('tunnel0', { address: `198.18.${process.pid % 250}.1/24`, port })]);
  const first = sup.status()[0]!;
  assert.equal(first.state, 'restarting');
  assert.match(first.reason!, /Address already in use|exited/);
  const delays = () => log.events.filter((e) => e.event === 'openvpn-restart-scheduled').map((e) => e.fields.inMs);
  await until('four scheduled restarts', 15_000, () => delays().length >= 4 || undefined);
  assert.deepEqual(delays().slice(0, 4), [200, 400, 800, 800]);
  const exits = log.events.filter((e) => e.event === 'openvpn-exit');
  assert.ok(exits.length >= 3 && exits.every((e) => e.level === 'error' && e.fields.code === 1));
  assert.ok(exits.some((e) => (e.fields.output as string[]).some((l) => /Address already in use/.test(l))), JSON.stringify(exits[0]));
  blocker.close();
  blocking = false;
  const up = await until('the tunnel up once the port is free', 10_000, () => (sup.status()[0]!.state === 'up' ? sup.status()[0] : undefined));
  assert.ok(up.restarts >= 3);
  assert.ok(isAlive(up.pid!));
  // A child that does not react to SIGTERM (stopped here) is killed after the bound.
  process.kill(up.pid!, 'SIGSTOP');
  const started = performance.now();
  await sup.stop();
  assert.ok(performance.now() - started < 3000);
  assert.ok(!isAlive(up.pid!), 'stopped with the supervisor');
  assert.equal(log.events.filter((e) => e.event === 'openvpn-stop-timeout').length, 1);
});
