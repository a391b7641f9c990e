/**
 * The local console (SPEC §2): on a TTY a login prompt (`awplus login:`) and an interactive session
 * (back to the login prompt after `exit`, as on a router's console port); otherwise script mode
 * starting at `#`, exit status 1 when a line was rejected.
 */
import type { App } from '../app.ts';
import { msg } from '../cli/messages.ts';
import { runInteractive } from '../terminal/bind.ts';
import { LineEditor } from '../terminal/line-editor.ts';
import { lineSource, runScriptMode } from '../terminal/script-mode.ts';

/** A failed login waits this long before the next prompt (slows password guessing). */
const LOGIN_FAILURE_DELAY_MS = 1000;

/** Runs the console until input ends; resolves to the exit status. */
export async function runConsole(app: App, stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): Promise<number> {
  if (!stdin.isTTY) return runScript(app, stdin, stdout);

  stdin.setRawMode(true);
  const editor = new LineEditor({ input: stdin, output: stdout, columns: stdout.columns, rows: stdout.rows });
  const onResize = () => editor.setSize(stdout.columns, stdout.rows);
  stdout.on('resize', onResize);
  try {
    for (;;) {
      const user = await editor.question(msg.loginPrompt(app.config.current.hostname), { secret: false });
      if (user === null) return 0;
      if (user.trim() === '') continue;
      const password = await editor.question(msg.passwordPrompt, { secret: true });
      if (password === null) return 0;
      editor.write('\n');
      const account = app.authenticate(user.trim(), password);
      if (!account) {
        app.log.info('login-failed', { user: user.trim(), via: 'console' });
        await new Promise((r) => setTimeout(r, LOGIN_FAILURE_DELAY_MS));
        editor.write(`${msg.loginIncorrect}\n`);
        continue;
      }
      app.log.info('login', { user: account.name, via: 'console' });
      const session = app.openSession({
        source: 'console',
        user: account.name,
        userPrivilege: account.privilege,
        enabled: false,
        location: 'console',
        terminalLength: stdout.rows ?? 24,
      });
      session.setWindow(stdout.columns ?? 80, stdout.rows ?? 24);
      const ended = await runInteractive(editor, session);
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
async function runScript(app: App, stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): Promise<number> {
  const lines = lineSource(stdin);
  let rebooted = false;
  const onReboot = () => (rebooted = true);
  app.on('rebooted', onReboot);
  let ok = true;
  try {
    do {
      rebooted = false;
      const session = app.openSession({ source: 'script', user: 'manager', userPrivilege: 15, enabled: true, location: 'console' });
      if (!(await runScriptMode(session, lines, (text) => void stdout.write(text)))) ok = false;
      session.close();
    } while (rebooted);
  } finally {
    app.off('rebooted', onReboot);
    lines.close();
  }
  return ok ? 0 : 1;
}
