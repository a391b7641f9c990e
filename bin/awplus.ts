/**
 * Command line entry (SPEC §2): argv → build the appliance → start transports. Nothing else; the only
 * place that calls process.exit.
 *   awplus [--flash DIR]            console (login on a TTY, script mode otherwise)
 *   awplus --daemon [--flash DIR]   no console; prints a line with `ready`; SIGTERM/SIGINT stop it
 *   awplus connect [--flash DIR]    a CLI session on the running daemon
 */
import { parseArgs } from 'node:util';
import { App } from '../src/app.ts';
import { formatBootReport } from '../src/session/script.ts';
import { runConsole } from '../src/transports/console.ts';
import { connectToDaemon } from '../src/transports/connect.ts';
import { listenControlSocket } from '../src/transports/control-socket.ts';
import { FlashPermissionError } from '../src/util/flash.ts';
import { FlashLockedError } from '../src/util/flash-lock.ts';

const USAGE = `usage: awplus [--flash DIR]            console session (login on a TTY, script mode otherwise)
       awplus --daemon [--flash DIR]   run without a console until SIGTERM
       awplus connect [--flash DIR]    CLI session on the running daemon
`;

async function main(): Promise<number> {
  // Read now, not once `ready` is out: whoever waits for that line may stop our parent at once, and a
  // parent read after it was gone would be init's pid, which never changes (onParentGone).
  const startedBy = process.ppid;
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { flash: { type: 'string', default: './flash' }, daemon: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    process.stderr.write(`awplus: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const flash = values.flash!;
  if (positionals[0] === 'connect' && positionals.length === 1 && !values.daemon) {
    return connectToDaemon(flash, process.stdin, process.stdout, process.stderr);
  }
  if (positionals.length > 0) {
    process.stderr.write(`awplus: unexpected argument "${positionals[0]}"\n${USAGE}`);
    return 2;
  }

  // Audit and error events go to stderr as JSON lines (SPEC §11); the console transcript stays on stdout,
  // and on the console only errors are written, since routine events would interleave with the session.
  let app: App | undefined;
  flushLog = () => app?.logs.deferred.flush();
  try {
    app = await App.start({ flash, lines: { write: (text) => void process.stderr.write(text), errorsOnly: !values.daemon } });
  } catch (e) {
    if (e instanceof FlashLockedError || e instanceof FlashPermissionError) {
      process.stderr.write(`awplus: ${e.message}\n`);
      return 1;
    }
    // The flash cannot be written (full, read-only, not ours): one line with the cause and what to do.
    const why = startFailure(e);
    if (why) {
      process.stderr.write(`awplus: cannot start on ${flash}: ${why}\n`);
      return 1;
    }
    throw e;
  }
  const running = app;
  const bootErrors = formatBootReport(running.bootReport);

  if (values.daemon) {
    // A log pipe its reader closed (a supervisor's, a terminal's) must not end the service: writes to it
    // are lost, the daemon goes on (an unhandled EPIPE would take RADIUS down with it).
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    running.logs.deferred.flush();
    process.stderr.write(bootErrors);
    const server = await listenControlSocket(running, running.flash.dir);
    running.on('rebooted', (r) => process.stderr.write(formatBootReport(r)));
    process.stdout.write(`awplus daemon ready (flash ${running.flash.dir}, pid ${process.pid})\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      onParentGone(startedBy, stop);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await running.stop();
    return 0;
  }

  // Console: boot errors are shown where the operator sees them (stdout on a TTY, stderr for scripts).
  (process.stdin.isTTY ? process.stdout : process.stderr).write(bootErrors);
  running.on('rebooted', (r) => (process.stdin.isTTY ? process.stdout : process.stderr).write(formatBootReport(r)));
  const status = await runConsole(running, process.stdin, process.stdout);
  await running.stop();
  return status;
}

/**
 * `npx awplus --daemon` runs us as a grandchild of `npm exec`, which does not pass SIGTERM on: a
 * supervisor stopping the process it started (npm) would leave the daemon running, holding its ports and
 * the flash lock. So when npm started us (it sets npm_command), our parent going away (we are re-parented)
 * stops us as SIGTERM does. A service should run `node bin/awplus.mjs --daemon` itself
 * (contrib/awplus.service), where this never comes into play.
 */
function onParentGone(parent: number, stop: () => void): void {
  if (!process.env['npm_command']) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.stderr.write(`awplus: the process that started this daemon (pid ${parent}) is gone; stopping\n`);
    stop();
  }, 500);
  timer.unref();
}

/** What an operator can act on when the flash cannot be used; undefined for anything else (a defect). */
function startFailure(e: unknown): string | undefined {
  const text = `${(e as Error).message ?? e} ${((e as { cause?: Error }).cause?.message) ?? ''}`;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || /No space left|ENOSPC/i.test(text)) return `no space left on the flash (ENOSPC): free some, then start again`;
  if (code === 'EROFS' || /read-only|EROFS/i.test(text)) return `the flash is read-only (EROFS): mount it read-write, then start again`;
  if (code === 'EACCES' || code === 'EPERM') return `${(e as Error).message}: the flash must belong to the user awplus runs as`;
  if ((e as Error).name === 'UserStoreError') return (e as Error).message;
  return undefined;
}

/** Writes log lines still pending (they are written after each turn of the event loop). */
let flushLog: () => void = () => {};

main().then(
  (status) => {
    flushLog();
    process.exit(status);
  },
  (e: unknown) => {
    flushLog();
    process.stderr.write(`awplus: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
