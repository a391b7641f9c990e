/** `ldap-server` blocks and `aaa group server ldap` blocks; unset settings omitted. */
import type { RunningConfig } from '../../config/model.ts';
import type { RenderContext } from '../../config/render.ts';
import { cliWord } from '../format.ts';
import { renderSecret } from '../secrets.ts';

export function render(cfg: Readonly<RunningConfig>, ctx: RenderContext): string[][] {
  const servers = [...cfg.ldap.servers].map(([name, s]) => {
    const lines = [`ldap-server ${name}`];
    if (s.host !== undefined) lines.push(` host ${s.host}`);
    if (s.port !== undefined) lines.push(` port ${s.port}`);
    if (s.secure !== undefined) lines.push(` secure ${s.secure}`);
    if (s.caCertificate !== undefined) lines.push(` ca-certificate flash:/${s.caCertificate.file}`);
    if (s.baseDn !== undefined) lines.push(` base-dn ${cliWord(s.baseDn)}`);
    if (s.bindDn !== undefined) {
      lines.push(` bind-dn ${cliWord(s.bindDn.dn)} password ${renderSecret(cfg, ctx, s.bindDn.password)}`);
    }
    if (s.loginAttribute !== undefined) lines.push(` login-attribute ${s.loginAttribute}`);
    if (s.emailAttribute !== undefined) lines.push(` email-attribute ${s.emailAttribute}`);
    if (s.requireGroup !== undefined) lines.push(` require-group ${cliWord(s.requireGroup)}`);
    if (s.timeout !== undefined) lines.push(` timeout ${s.timeout}`);
    return lines;
  });
  const groups = [...cfg.ldap.groups].map(([name, members]) => [`aaa group server ldap ${name}`, ...members.map((m) => ` server ${m}`)]);
  return [...servers, ...groups];
}
