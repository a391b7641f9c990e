/**
 * Where a PostgreSQL store is: `2fa store postgresql URL`, parsed once into the client settings the
 * appliance uses. Only what the appliance needs is accepted; the timeouts and the commit mode are the
 * appliance's own (pg-connection.ts) and a URL cannot change them.
 */

/** A database as configured; the password is kept apart from the URL, which is shown and logged. */
export interface PgTarget {
  /** `postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…]`: no password. */
  readonly url: string;
  readonly password: string | undefined;
}

export interface ParsedPgUrl {
  readonly user: string;
  /** Percent-decoded; undefined when the URL carries none. */
  readonly password: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslmode: SslMode;
  /** The URL without its password. */
  readonly url: string;
}

/**
 * libpq's modes that mean one thing each here: `disable` (the default, as node-postgres'), `require`
 * (encrypted, the certificate not checked) and `verify-full` (the certificate checked against the
 * system's CAs and the host name).
 */
export type SslMode = 'disable' | 'require' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'require', 'verify-full'];

/** PostgreSQL's default port. */
export const PG_DEFAULT_PORT = 5432;

/** Parses `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]`; a reason when it is not one. */
export function parsePgUrl(text: string): ParsedPgUrl | { readonly error: string } {
  if (!/^postgres(ql)?:\/\//i.test(text)) return { error: 'the URL must begin with postgresql://' };
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { error: 'not a URL' };
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) return { error: 'the URL names no host' };
  if (!u.username) return { error: 'the URL names no user (postgresql://USER@HOST/DATABASE)' };
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) return { error: 'the URL names no database (postgresql://USER@HOST/DATABASE)' };
  const port = u.port === '' ? PG_DEFAULT_PORT : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: 'the port must be 1 to 65535' };
  let sslmode: SslMode = 'disable';
  for (const [k, v] of u.searchParams) {
    if (k !== 'sslmode') return { error: `unknown URL parameter ${k} (only sslmode is accepted)` };
    if (!SSL_MODES.includes(v as SslMode)) return { error: `sslmode must be one of ${SSL_MODES.join(', ')}` };
    sslmode = v as SslMode;
  }
  let password: string | undefined;
  try {
    password = u.password === '' ? undefined : decodeURIComponent(u.password);
  } catch {
    return { error: 'the password in the URL is not percent-encoded correctly' };
  }
  u.password = '';
  return { user: decodeURIComponent(u.username), password, host, port, database, sslmode, url: u.toString() };
}

/** `host:port/database` of a target, for messages and the log. */
export function describeTarget(target: PgTarget): string {
  const p = parsePgUrl(target.url);
  return 'error' in p ? target.url : `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}/${p.database}`;
}
