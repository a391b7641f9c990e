/**
 * One LDAP connection for one login: ldapts underneath, with TLS set up the way SPEC §14 wants
 * (certificates always verified, system CAs plus `ca-certificate`) and guards ldapts does not give.
 */
import { Client, type Entry, type Filter } from 'ldapts';
import { isIP } from 'node:net';
import { createSecureContext, rootCertificates, type ConnectionOptions, type SecureContext } from 'node:tls';
import { serverUrl, type ResolvedLdapServer } from './settings.ts';

/**
 * The trust store of one `ca-certificate`: Node's `ca` replaces the default store, so the added CA goes
 * with the bundled roots. Building it parses every root (about 20 ms of CPU), too much for every login
 * (LDAPS went from hundreds of logins/s to tens), so it is built once per CA text and kept; a few
 * servers have a few CAs, and the cache starts over if edits ever pile up more.
 */
const trustStores = new Map<string, SecureContext>();
function trustStore(ca: string): SecureContext {
  let context = trustStores.get(ca);
  if (!context) {
    if (trustStores.size >= 16) trustStores.clear();
    context = createSecureContext({ ca: [...rootCertificates, ca] });
    trustStores.set(ca, context);
  }
  return context;
}

/** TLS options for LDAPS and StartTLS. */
export function tlsOptions(s: ResolvedLdapServer): ConnectionOptions {
  return {
    // Without a ca-certificate, Node's default store (which also honours NODE_EXTRA_CA_CERTS).
    ...(s.caCertificate ? { secureContext: trustStore(s.caCertificate) } : {}),
    rejectUnauthorized: true,
    // The name checked against the certificate (RFC 4513 §3.1.3) is servername, else host. Node
    // refuses an IP address as SNI servername (DEP0123): for an address only `host` is given, and the
    // check then matches it against the certificate's IP subjectAltNames.
    host: s.host,
    ...(isIP(s.host) ? {} : { servername: s.host }),
  };
}

export interface FindOptions {
  readonly scope: 'base' | 'sub';
  readonly filter: Filter;
  readonly attributes: string[];
  readonly sizeLimit: number;
}

/**
 * A connection that can only be used in one straight line: connect (StartTLS when configured), then
 * operations, then close. Two ldapts behaviours are fenced off here:
 * - after a plain connection drops, ldapts silently reconnects on the next operation, unauthenticated:
 *   a search would run anonymously. Once opened, an operation on a lost connection fails instead.
 *   (After StartTLS, ldapts 8.2.0 does not notice a drop at all; the operation runs into its timeout.)
 * - an abandoned login (its server timed out) must not start new operations: after close() every
 *   operation fails.
 */
export class LdapSession {
  private readonly client: Client;
  private opened = false;
  private closed = false;

  constructor(private readonly server: ResolvedLdapServer) {
    this.client = new Client({
      url: serverUrl(server),
      connectTimeout: server.timeoutMs,
      timeout: server.timeoutMs,
      // Only for ldaps://: given tlsOptions with an ldap:// URL, ldapts opens TLS at once and StartTLS
      // on the plain port then fails (ldapts CHANGELOG 2.1.0; shared/research/wave2.md §B).
      ...(server.secure === 'ldaps' ? { tlsOptions: tlsOptions(server) } : {}),
    });
  }

  /** Called before every operation: the first one may connect, later ones need the same connection. */
  private guard(): void {
    if (this.closed) throw new Error('LDAP session closed');
    if (this.opened && !this.client.isConnected) throw new Error('LDAP connection lost');
    this.opened = true;
  }

  /** With `secure starttls`, upgrades the connection before anything else is sent (RFC 4513 §3). */
  async open(): Promise<void> {
    if (this.server.secure !== 'starttls') return;
    this.guard();
    await this.client.startTLS(tlsOptions(this.server));
  }

  /** A simple bind (RFC 4513 §5.1.3). Throws ldapts' ResultCodeError when the server says no. */
  async bind(dn: string, password: string): Promise<void> {
    this.guard();
    await this.client.bind(dn, password);
  }

  /** The entries `filter` finds under `base`. */
  async find(base: string, o: FindOptions): Promise<Entry[]> {
    this.guard();
    const { searchEntries } = await this.client.search(base, {
      scope: o.scope,
      filter: o.filter,
      attributes: o.attributes,
      sizeLimit: o.sizeLimit,
      timeLimit: Math.ceil(this.server.timeoutMs / 1000),
    });
    return searchEntries;
  }

  /** Unbinds and closes the socket; never throws, safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    await this.client.unbind().catch(() => {});
  }
}
