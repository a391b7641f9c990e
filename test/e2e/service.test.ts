/**
 * Running as a service (issue #17): contrib/awplus.service is run the way systemd runs it — its
 * ExecStart in a session of its own (systemd's cgroup), with its WorkingDirectory, StateDirectory and
 * UMask — and stopped the way its KillMode and KillSignal say: the signal to the main PID only. Every
 * process of the unit must be gone when the main process exits (before systemd's SIGKILL would come),
 * the flash lock released and the ports free. `npx awplus --daemon`, whose npm does not pass SIGTERM
 * on, is tested the same way.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasPeer, peer } from '../helpers/peers.ts';
import { freePort, freeUdpPort } from '../helpers/ports.ts';
import { RadiusProbe } from '../helpers/radius-probe.ts';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const UNIT = join(ROOT, 'contrib/awplus.service');

/** A unit file: section → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      current = new Map();
      sections.set(s[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(kv && current, `cannot read unit line: ${line}`);
    current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!]);
  }
  return sections;
}

/** systemd's command-line splitting for a line without quotes or specifiers (checked). */
function splitExec(line: string): string[] {
  assert.ok(!/["'%$\\]/.test(line), `ExecStart uses quoting or specifiers this test does not expand: ${line}`);
  return line.split(/\s+/).filter(Boolean);
}

/** The processes whose session is `sid` (a systemd service's cgroup, as near as a test gets). */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp session …: comm may hold spaces and parentheses, so read after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[3]) === sid && fields[0] !== 'Z') out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a TCP and a UDP port on 127.0.0.1 can be bound again. */
async function portsFree(tcp: number, udp: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  const { createSocket } = await import('node:dgram');
  const t = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(tcp, '0.0.0.0', () => s.close(() => resolve(true)));
  });
  const u = await new Promise<boolean>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(udp, '0.0.0.0', () => s.close(() => resolve(true)));
  });
  return t && u;
}

/** Waits for the `ready` line of a daemon child. */
function ready(child: ChildProcess, output: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 30 s:\n${output.text}`)), 30000);
    const on = (d: Buffer) => {
      output.text += d;
      if (/ready/.test(output.text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', (d: Buffer) => (output.text += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ready:\n${output.text}`));
    });
  });
}

/** A startup config with SSH, the RADIUS server and, where this host can run one, an OpenVPN server (a child process). */
function startupConfig(sshPort: number, radiusPort: number): { text: string; openvpn: boolean } {
  const openvpn = process.getuid?.() === 0 && existsSync('/dev/net/tun') && hasPeer('openvpn');
  const n = 900 + (process.pid % 90);
  const lines = [
    `ssh server port ${sshPort}`,
    'service ssh',
    'radius-server local',
    ' nas 127.0.0.1 key unitkey',
    ' user bob password bobpw',
    ` server auth-port ${radiusPort}`,
    ' server enable',
  ];
  if (openvpn) lines.push(`interface tunnel${n}`, ` tunnel openvpn port ${30000 + (process.pid % 5000)}`, ' tunnel mode openvpn tun', ` ip address 198.19.${process.pid % 250}.1/24`);
  return { text: lines.join('\n') + '\n', openvpn };
}

test('contrib/awplus.service: ExecStart runs the daemon; a stop as KillMode/KillSignal say leaves no process, lock or port behind', async () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service');
  assert.ok(service, 'no [Service] section');
  const one = (key: string) => {
    const v = service.get(key);
    assert.ok(v && v.length === 1, `${key} must be set once`);
    return v[0]!;
  };
  const argv = splitExec(one('ExecStart'));
  assert.ok(!/npx|npm/.test(argv[0]!), `ExecStart runs ${argv[0]}: npm does not pass SIGTERM on`);
  assert.ok(argv.includes('--daemon'), 'ExecStart does not run the daemon');
  const killMode = one('KillMode');
  const killSignal = one('KillSignal');
  assert.ok(['mixed', 'process'].includes(killMode), `KillMode=${killMode}: the daemon must get the signal alone and stop its children itself`);
  const timeoutStop = Number(one('TimeoutStopSec'));
  assert.ok(timeoutStop > 0, 'TimeoutStopSec');

  // Where the unit says /opt/awplus and /var/lib/awplus, this checkout and a temporary state directory.
  const state = mkdtempSync(join(tmpdir(), 'awplus-unit-'));
  const stateDirectory = join(state, one('StateDirectory'));
  mkdirSync(stateDirectory, { mode: Number.parseInt(one('StateDirectoryMode'), 8) });
  const map = (s: string) => s.replace(/^\/opt\/awplus(?=\/|$)/, ROOT).replace(/^\/var\/lib\/awplus(?=\/|$)/, stateDirectory);
  const cmd = argv.map(map);
  if (!existsSync(cmd[0]!)) cmd[0] = process.execPath;
  const flashIndex = cmd.indexOf('--flash');
  assert.ok(flashIndex > 0, 'ExecStart names no --flash');
  const flash = cmd[flashIndex + 1]!;
  assert.ok(flash.startsWith(stateDirectory), `the flash ${flash} is not in the unit's StateDirectory`);
  mkdirSync(flash, { recursive: true, mode: 0o700 });
  const sshPort = await freePort();
  const radiusPort = await freeUdpPort();
  const config = startupConfig(sshPort, radiusPort);
  writeFileSync(join(flash, 'default.cfg'), config.text);

  // systemd: a new session (the unit's cgroup), the working directory, UMask, and a clean environment.
  const umask = one('UMask');
  const child = spawn(peer('sh'), ['-c', `umask ${umask} && exec "$@"`, 'sh', ...cmd], {
    cwd: map(one('WorkingDirectory')),
    detached: true,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { text: '' };
  const mainPid = child.pid!;
  try {
    await ready(child, output);
    const probe = await RadiusProbe.open(radiusPort, 'unitkey');
    assert.equal(await probe.request('bob', 'bobpw'), 'accept', 'the service does not answer RADIUS');
    probe.close();
    if (config.openvpn) await until('the OpenVPN child', () => sessionMembers(mainPid).length >= 2, 15000);
    const members = sessionMembers(mainPid);
    assert.ok(members.includes(mainPid), 'the main process is not in its own session');
    assert.equal(statSync(flash).mode & 0o777, 0o700, 'the flash is not owner-only');

    // Stop: KillSignal to the main PID only (KillMode=mixed/process), then wait up to TimeoutStopSec.
    const t = performance.now();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(mainPid, killSignal as NodeJS.Signals);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutStop * 1000)))]);
    clearTimeout(timer);
    const stopMs = performance.now() - t;
    assert.notEqual(code, 'timeout', `the daemon did not stop within TimeoutStopSec=${timeoutStop}:\n${output.text}`);
    assert.equal(code, 0, `exit status ${code}:\n${output.text}`);
    // What systemd would now SIGKILL: nothing may be left.
    await until('the unit\'s processes to be gone', () => sessionMembers(mainPid).length === 0, 2000).catch(() => {});
    assert.deepEqual(sessionMembers(mainPid), [], `processes of the unit left after the stop (${members.length} ran${config.openvpn ? ', OpenVPN among them' : ''})`);
    assert.ok(!existsSync(join(flash, '.lock')), 'the flash lock was not released');
    assert.ok(await portsFree(sshPort, radiusPort), 'a port is still held');
    process.stdout.write(`# service stop: ${stopMs.toFixed(0)} ms, ${members.length} process(es) in the unit${config.openvpn ? ' (daemon + openvpn)' : ''}\n`);
  } finally {
    for (const pid of sessionMembers(mainPid)) process.kill(pid, 'SIGKILL');
    rmSync(state, { recursive: true, force: true });
  }
});

test('npx awplus --daemon: SIGTERM to the npx process a supervisor started stops the daemon too', async () => {
  const state = mkdtempSync(join(tmpdir(), 'awplus-npx-'));
  const flash = join(state, 'flash');
  const sshPort = await freePort();
  const radiusPort = await freeUdpPort();
  mkdirSync(flash, { mode: 0o700 });
  writeFileSync(join(flash, 'default.cfg'), startupConfig(sshPort, radiusPort).text.replace(/^interface[\s\S]*$/m, ''));
  // npx resolves `awplus` to this checkout (its package name) without the network.
  const child = spawn(peer('npx'), ['--offline', 'awplus', '--daemon', '--flash', flash], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { text: '' };
  const sid = child.pid!;
  try {
    await ready(child, output);
    const members = sessionMembers(sid);
    assert.ok(members.length >= 2, `npx and the daemon: ${members}`);
    process.kill(sid, 'SIGTERM');
    await until('every process of npx awplus to be gone', () => sessionMembers(sid).length === 0, 30000).catch(() => {});
    const left = sessionMembers(sid).map((pid) => {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')} [${/^State:.*$/m.exec(status)?.[0]}; ${/^PPid:.*$/m.exec(status)?.[0]}]`;
      } catch {
        return String(pid);
      }
    });
    assert.deepEqual(left, [], `left running after SIGTERM to npx (members at start: ${members}):\n${output.text}`);
    assert.ok(!existsSync(join(flash, '.lock')), 'the flash lock was not released');
    assert.ok(await portsFree(sshPort, radiusPort), 'a port is still held');
  } finally {
    for (const pid of sessionMembers(sid)) process.kill(pid, 'SIGKILL');
    rmSync(state, { recursive: true, force: true });
  }
});

test('a log pipe its reader closed does not take the daemon down', async () => {
  const state = mkdtempSync(join(tmpdir(), 'awplus-epipe-'));
  const flash = join(state, 'flash');
  const radiusPort = await freeUdpPort();
  mkdirSync(flash, { mode: 0o700 });
  writeFileSync(join(flash, 'default.cfg'), ['radius-server local', ' nas 127.0.0.1 key unitkey', ' user bob password bobpw', ` server auth-port ${radiusPort}`, ' server enable', ''].join('\n'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/awplus.mjs'), '--daemon', '--flash', flash], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { text: '' };
  const probe = await RadiusProbe.open(radiusPort, 'unitkey');
  try {
    await ready(child, output);
    // The supervisor's log reader goes away: every audit line the daemon writes now meets EPIPE.
    child.stdout!.destroy();
    child.stderr!.destroy();
    for (let i = 0; i < 50; i++) assert.equal(await probe.request('bob', i % 2 ? 'bobpw' : 'wrong'), i % 2 ? 'accept' : 'reject', `request ${i} after the log pipe closed`);
    assert.equal(child.exitCode, null, 'the daemon exited');
  } finally {
    probe.close();
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    rmSync(state, { recursive: true, force: true });
  }
});
