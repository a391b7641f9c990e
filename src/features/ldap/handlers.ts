/**
 * LDAP directories for the first factor (SPEC §14): `ldap-server NAME` → `(config-ldapserver)#`,
 * `aaa group server ldap NAME` → `(config-ldap-sg)#`, `show ldap server`. Changes apply to the next login.
 */
import { X509Certificate } from 'node:crypto';
import { msg } from '../../cli/messages.ts';
import type { LdapServerConfig } from '../../config/model.ts';
import { LDAP_DEFAULTS } from '../../ldap/settings.ts';
import { isDn } from '../../ldap/syntax.ts';
import { arg } from '../../session/context.ts';
import { flashName } from '../../util/flash.ts';
import type { Ctx, Handlers } from '../appliance.ts';
import { secretArg } from '../secrets.ts';
import { formatLdapServers } from './show.ts';

/** Changes the server whose mode the session is in (made again if another session removed it meanwhile). */
function edit(ctx: Ctx, change: (s: LdapServerConfig) => void): void {
  const name = ctx.session.modeContext as string;
  ctx.app.config.update((c) => {
    let s = c.ldap.servers.get(name);
    if (!s) c.ldap.servers.set(name, (s = {}));
    change(s);
  });
}

/** A DN argument, checked (RFC 4514 §3) before it reaches a server. */
function dnArg(ctx: Ctx, name: string): string {
  const dn = arg.str(ctx, name).trim();
  // A DN in double quotes is one CLI word, so a quotation mark inside one could not be shown back in
  // the running config; RFC 4514 §2.4 lets it be written as \22.
  if (dn.includes('"') || !isDn(dn)) ctx.error(msg.ldapBadDn(dn));
  return dn;
}

/** The certificates of a PEM file (other blocks, such as a key pasted into the same file, are left out). */
function pemCertificates(name: string, text: string, ctx: Ctx): string {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) return ctx.error(msg.ldapCaInvalid(name, 'no BEGIN CERTIFICATE block'));
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (e) {
      return ctx.error(msg.ldapCaInvalid(name, (e as Error).message));
    }
  }
  return blocks.join('\n') + '\n';
}

/** Ten CA bundles' worth; a bigger file is not a CA certificate. */
const MAX_CA_FILE = 1 << 20;

export const handlers = {
  'ldap.server': (ctx) => {
    const name = arg.str(ctx, 'name');
    if (ctx.no) {
      if (!ctx.app.config.current.ldap.servers.has(name)) ctx.error(msg.ldapNoSuchServer(name));
      // Group members naming it stay (as with RADIUS groups) and are skipped until it exists again.
      ctx.app.config.update((c) => void c.ldap.servers.delete(name));
      ctx.app.ldap.statistics.forget(name);
      return;
    }
    if (!ctx.app.config.current.ldap.servers.has(name)) ctx.app.config.update((c) => void c.ldap.servers.set(name, {}));
    ctx.session.enter('ldap-server', name);
  },
  'ldap.group': (ctx) => {
    const name = arg.str(ctx, 'name');
    const cfg = ctx.app.config.current;
    if (ctx.no) {
      if (!cfg.ldap.groups.has(name)) ctx.error(msg.ldapNoSuchGroup(name));
      // Without the group, `group NAME` would name nothing: refused rather than a method that silently changes.
      if (cfg.aaa.openvpn?.group === name) ctx.error(msg.ldapGroupInUse(name, 'openvpn'));
      if (cfg.aaa.registration?.group === name) ctx.error(msg.ldapGroupInUse(name, '2fa-registration'));
      ctx.app.config.update((c) => void c.ldap.groups.delete(name));
      return;
    }
    // `aaa authentication … group NAME` must know which kind NAME is.
    if (cfg.radius.groups.has(name)) ctx.error(msg.ldapGroupNameTaken(name));
    if (!cfg.ldap.groups.has(name)) ctx.app.config.update((c) => void c.ldap.groups.set(name, []));
    ctx.session.enter('ldap-server-group', name);
  },
  'ldap.group-server': (ctx) => {
    const group = ctx.session.modeContext as string;
    const name = arg.str(ctx, 'name');
    const members = ctx.app.config.current.ldap.groups.get(group) ?? [];
    if (ctx.no && !members.includes(name)) ctx.error(msg.ldapNotInGroup(name));
    ctx.app.config.update((c) => {
      const list = c.ldap.groups.get(group) ?? [];
      if (ctx.no) list.splice(list.indexOf(name), 1);
      else if (!list.includes(name)) list.push(name);
      c.ldap.groups.set(group, list);
    });
  },
  'ldap.host': (ctx) => edit(ctx, (s) => (ctx.no ? delete s.host : (s.host = arg.str(ctx, 'host')))),
  'ldap.port': (ctx) => edit(ctx, (s) => (ctx.no ? delete s.port : (s.port = arg.num(ctx, 'port')))),
  'ldap.secure': (ctx) => edit(ctx, (s) => (ctx.no ? delete s.secure : (s.secure = ctx.args['ldaps'] ? 'ldaps' : 'starttls'))),
  // Read and checked now; the PEM is kept, so replacing the file later takes this command again.
  'ldap.ca': (ctx) => {
    if (ctx.no) return edit(ctx, (s) => delete s.caCertificate);
    const file = flashName(arg.str(ctx, 'file'))!;
    if (!ctx.app.flash.exists(file)) ctx.error(msg.ldapCaMissing(file));
    const bytes = ctx.app.flash.readBytes(file);
    if (bytes.length > MAX_CA_FILE) ctx.error(msg.ldapCaInvalid(file, 'larger than 1 MB'));
    const pem = pemCertificates(file, bytes.toString('utf8'), ctx);
    edit(ctx, (s) => (s.caCertificate = { file, pem }));
  },
  'ldap.base-dn': (ctx) => {
    if (ctx.no) return edit(ctx, (s) => delete s.baseDn);
    const dn = dnArg(ctx, 'dn');
    edit(ctx, (s) => (s.baseDn = dn));
  },
  'ldap.bind-dn': (ctx) => {
    if (ctx.no) return edit(ctx, (s) => delete s.bindDn);
    const dn = dnArg(ctx, 'dn');
    const password = secretArg(ctx, 'password');
    // RFC 4513 §5.1.2: a DN with an empty password is an unauthenticated bind, not a login as that DN.
    if (password === '') ctx.error(msg.passwordEmpty);
    edit(ctx, (s) => (s.bindDn = { dn, password }));
  },
  'ldap.login-attribute': (ctx) => attribute(ctx, 'loginAttribute', LDAP_DEFAULTS.loginAttribute),
  'ldap.email-attribute': (ctx) => attribute(ctx, 'emailAttribute', LDAP_DEFAULTS.emailAttribute),
  'ldap.require-group': (ctx) => {
    if (ctx.no) return edit(ctx, (s) => delete s.requireGroup);
    const dn = dnArg(ctx, 'dn');
    edit(ctx, (s) => (s.requireGroup = dn));
  },
  'ldap.timeout': (ctx) => {
    const seconds = ctx.no ? LDAP_DEFAULTS.timeoutSeconds : arg.num(ctx, 'seconds');
    edit(ctx, (s) => (seconds === LDAP_DEFAULTS.timeoutSeconds ? delete s.timeout : (s.timeout = seconds)));
  },
  'ldap.show': (ctx) => {
    const cfg = ctx.app.config.current;
    const name = arg.opt<string>(ctx, 'name');
    if (name !== undefined && !cfg.ldap.servers.has(name)) ctx.error(msg.ldapNoSuchServer(name));
    ctx.out.lines(formatLdapServers(cfg, ctx.app.ldap.statistics, name, ctx.app.clock.now()));
  },
} satisfies Handlers;

/** `login-attribute` / `email-attribute`: the default (in any case, RFC 4512 §2.5) is kept as "not set". */
function attribute(ctx: Ctx, field: 'loginAttribute' | 'emailAttribute', fallback: string): void {
  const value = ctx.no ? fallback : arg.str(ctx, 'attribute');
  edit(ctx, (s) => (value.toLowerCase() === fallback.toLowerCase() ? delete s[field] : (s[field] = value)));
}
