/**
 * Our appliance in a bench as it is deployed: `awplus --daemon` in a process of its own, run as
 * `npx awplus` runs it (awplusArgv: the Node options of bin/awplus.mjs's `#!` line), its log lines (stderr) going straight
 * into a file as a service manager would keep them, so that the bench process neither shares its event
 * loop nor reads its lines. Its CPU time is read from /proc, as FreeRADIUS's is. The bench's other Node
 * programs (bare-responder.ts) start the same way (startBenchProcess).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { awplusArgv, daemonReady } from '../test/helpers/process.ts';

/** CPU time (user + system, ms) a process has used so far, from /proc (clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export interface BenchProcess {
  readonly pid: number;
  /** SIGTERM, and SIGKILL if it has not exited 15 s later. */
  stop(): Promise<void>;
}

/**
 * Starts `node ARGV` (`what` names it in errors), its stderr into `logFile`; resolves once it prints
 * `ready` on stdout (bounded).
 */
export async function startBenchProcess(argv: readonly string[], logFile: string, what: string, timeoutMs = 60000): Promise<BenchProcess> {
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    await exited;
    clearTimeout(timer);
  };
  await daemonReady(child, () => `${out}(its log: ${logFile})`, timeoutMs, what);
  return { pid: child.pid!, stop };
}

/** Starts the daemon on `flash`, its log into `logFile`; resolves once it says `ready` (bounded). */
export function startOurDaemon(flash: string, logFile: string, timeoutMs = 60000): Promise<BenchProcess> {
  return startBenchProcess(awplusArgv(['--daemon', '--flash', flash]), logFile, 'awplus --daemon', timeoutMs);
}
