/** `show ssh server` (layout [OURS], AW+-style aligned fields). */
import { msg } from '../../cli/messages.ts';
import type { RunningConfig } from '../../config/model.ts';
import type { SshStatus } from '../appliance.ts';
import { fields } from '../format.ts';

export function formatSshServer(cfg: Readonly<RunningConfig>, s: SshStatus): string[] {
  const rows: [string, string][] = [
    ['SSH server', cfg.ssh.enabled ? 'Enabled' : 'Disabled'],
    ['Port', String(cfg.ssh.port)],
    ['Listening', s.listening ? `Yes (port ${s.port})` : s.error ? `No (${s.error})` : 'No'],
    ['Allowed users', cfg.ssh.allowUsers.length ? cfg.ssh.allowUsers.join(', ') : '(all local users)'],
    ['Idle timeout (line vty)', msg.idleTime(cfg.lines.vtyTimeout)],
    ['Sessions', String(s.sessions)],
    ...s.hostKeys.map((k): [string, string] => ['Host key', `${k.type} ${k.fingerprint}`]),
  ];
  return ['Secure Shell Server', '-'.repeat(60), ...fields(rows, '  ')];
}
