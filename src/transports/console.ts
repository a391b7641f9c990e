/**
 * The local console (SPEC §2): on a TTY a login prompt (`awplus login:`) and an interactive session
 * (back to the login prompt after `exit`, as on a router's console port); otherwise script mode
 * starting at `#`, exit status 1 when a line was rejected.
 */
import { msg } from '../cli/messages.ts';
import { runInteractive } from '../terminal/bind.ts';
import { idleTimer } from '../terminal/idle.ts';
import { LineEditor } from '../terminal/line-editor.ts';
import { lineSource, runScriptMode } from '../terminal/script-mode.ts';
import type { CliHost } from './cli-host.ts';

/** Runs the console until input ends; resolves to the exit status. */
export async function runConsole(host: CliHost, stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): Promise<number> {
  if (!stdin.isTTY) return runScript(host, stdin, stdout);

  stdin.setRawMode(true);
  const editor = new LineEditor({ input: stdin, output: stdout, columns: stdout.columns, rows: stdout.rows });
  const onResize = () => editor.setSize(stdout.columns, stdout.rows);
  stdout.on('resize', onResize);
  try {
    for (;;) {
      const user = await editor.question(msg.loginPrompt(host.hostname()), { secret: false });
      if (user === null) return 0;
      if (user.trim() === '') continue;
      const password = await editor.question(msg.passwordPrompt, { secret: true });
      if (password === null) return 0;
      editor.write('\n');
      const account = await host.login({ user: user.trim(), password, via: 'console' });
      if (!account) {
        editor.write(`${msg.loginIncorrect}\n`);
        continue;
      }
      const session = host.openSession({
        source: 'console',
        user: account.name,
        userPrivilege: account.privilege,
        enabled: false,
        location: 'console',
        terminalLength: stdout.rows ?? 24,
      });
      session.setWindow(stdout.columns ?? 80, stdout.rows ?? 24);
      // `line con 0` `exec-timeout`: an idle console goes back to the login prompt.
      const idle = idleTimer(() => host.idleSeconds('console'), () => {
        editor.write(`\n${msg.idleTimeout}\n`);
        session.close();
      });
      stdin.on('data', idle.reset);
      const ended = await runInteractive(editor, session).finally(() => {
        idle.stop();
        stdin.off('data', idle.reset);
      });
      session.close();
      if (ended === 'eof') return 0;
      editor.write('\n');
    }
  } finally {
    stdout.off('resize', onResize);
    editor.close();
    if (stdin.isTTY) stdin.setRawMode(false);
  }
}

/** Script mode; after `reboot` the rest of the input runs on the rebooted appliance, like a console. */
async function runScript(host: CliHost, stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): Promise<number> {
  const lines = lineSource(stdin);
  let rebooted = false;
  const stopWatching = host.onReboot(() => (rebooted = true));
  let ok = true;
  try {
    do {
      rebooted = false;
      const session = host.openSession({ source: 'script', user: 'manager', userPrivilege: 15, enabled: true, location: 'console' });
      if (!(await runScriptMode(session, lines, (text) => void stdout.write(text)))) ok = false;
      session.close();
    } while (rebooted);
  } finally {
    stopWatching();
    lines.close();
  }
  return ok ? 0 : 1;
}
