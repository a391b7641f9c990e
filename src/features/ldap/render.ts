/** `ldap-server` blocks and `aaa group server ldap` blocks; unset settings omitted. */
import type { RunningConfig } from '../../config/model.ts';
import type { RenderContext } from '../../config/render.ts';
import { renderSecret } from '../secrets.ts';

/**
 * A value as one CLI word: in double quotes when it has spaces (DNs such as `CN=VPN Users,…`). The
 * handlers refuse a quotation mark in a DN, and a typed word with spaces came in quotes and so has none.
 */
export function cliWord(text: string): string {
  return text === '' || /\s/.test(text) || text.startsWith('"') ? `"${text}"` : text;
}

export function render(cfg: Readonly<RunningConfig>, ctx: RenderContext): string[][] {
  const servers = [...cfg.ldap.servers].map(([name, s]) => {
    const lines = [`ldap-server ${name}`];
    if (s.host !== undefined) lines.push(` host ${s.host}`);
    if (s.port !== undefined) lines.push(` port ${s.port}`);
    if (s.secure !== undefined) lines.push(` secure ${s.secure}`);
    if (s.caCertificate !== undefined) lines.push(` ca-certificate flash:/${s.caCertificate.file}`);
    if (s.baseDn !== undefined) lines.push(` base-dn ${cliWord(s.baseDn)}`);
    if (s.bindDn !== undefined) {
      const password = cfg.passwordEncryption ? renderSecret(cfg, ctx, s.bindDn.password) : cliWord(s.bindDn.password);
      lines.push(` bind-dn ${cliWord(s.bindDn.dn)} password ${password}`);
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
