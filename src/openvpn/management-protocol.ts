/**
 * The OpenVPN management protocol as text, without sockets (management-notes.txt, OpenVPN 2.6):
 * line framing, the multi-line `>CLIENT:` notifications, argument quoting, and the `status 3`
 * report. Bytes are kept as latin1 strings so a password reaches the login decision byte for byte.
 */

/** Splits a byte stream into lines (LF or CRLF); bytes map 1:1 to latin1 characters. */
export class LineSplitter {
  private pending = '';

  /** Feeds a chunk; returns the complete lines it finished. */
  push(chunk: Buffer): string[] {
    this.pending += chunk.toString('latin1');
    const parts = this.pending.split('\n');
    this.pending = parts.pop()!;
    return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  /** What has arrived after the last line break (the password prompt has none). */
  get rest(): string {
    return this.pending;
  }

  /** Drops `n` characters of the unfinished line (a consumed prompt). */
  consume(n: number): void {
    this.pending = this.pending.slice(n);
  }
}

/** The kinds of `>CLIENT:` notification (management-notes.txt "The CLIENT notification"). */
export type ClientEventKind = 'CONNECT' | 'REAUTH' | 'ESTABLISHED' | 'DISCONNECT' | 'ADDRESS' | 'CR_RESPONSE';

/** One `>CLIENT:` notification with its environment. Values are latin1 strings (raw bytes). */
export interface ClientEvent {
  readonly kind: ClientEventKind;
  /** Client ID: one per client instance, never reused while the server runs. */
  readonly cid: number;
  /** Key ID (CONNECT, REAUTH, CR_RESPONSE): which TLS key negotiation the answer is for. */
  readonly kid?: number;
  /** ADDRESS: the virtual address; CR_RESPONSE: the base64 response. */
  readonly detail?: string;
  readonly env: ReadonlyMap<string, string>;
}

/**
 * Assembles `>CLIENT:` notifications. A notification with an environment is atomic: its header,
 * the `>CLIENT:ENV,name=value` lines and `>CLIENT:ENV,END` arrive together (management-notes.txt).
 */
export class ClientEventParser {
  private current: { kind: ClientEventKind; cid: number; kid?: number; detail?: string; env: Map<string, string> } | undefined;

  /** Feeds one `>CLIENT:` line (without the `>CLIENT:` prefix); returns a finished event, if any. */
  line(body: string): ClientEvent | undefined {
    if (body.startsWith('ENV,')) {
      if (!this.current) return undefined;
      const kv = body.slice(4);
      if (kv === 'END') {
        const done = this.current;
        this.current = undefined;
        return done;
      }
      const eq = kv.indexOf('=');
      // The value may contain '=' (base64 padding, passwords): split at the first one only.
      if (eq > 0) this.current.env.set(kv.slice(0, eq), kv.slice(eq + 1));
      return undefined;
    }
    const fields = body.split(',');
    const kind = fields[0] as ClientEventKind;
    const cid = Number(fields[1]);
    if (!Number.isSafeInteger(cid)) return undefined;
    switch (kind) {
      case 'CONNECT':
      case 'REAUTH':
        this.current = { kind, cid, kid: Number(fields[2]), env: new Map() };
        return undefined;
      case 'CR_RESPONSE':
        this.current = { kind, cid, kid: Number(fields[2]), detail: fields.slice(3).join(','), env: new Map() };
        return undefined;
      case 'ESTABLISHED':
      case 'DISCONNECT':
        this.current = { kind, cid, env: new Map() };
        return undefined;
      case 'ADDRESS':
        // ">CLIENT:ADDRESS,{CID},{ADDR},{PRI}": a single line, no environment.
        return { kind, cid, detail: fields[2], env: new Map() };
      default:
        return undefined;
    }
  }
}

/**
 * Quotes one command argument for the management lexer (management-notes.txt "Command Parsing":
 * double quotes, `\\` and `\"`). A line break would end the command, so control characters are
 * replaced by spaces: the arguments we send are reasons and prompts, never secrets.
 */
export function quoteArg(text: string): string {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, ' ');
  return `"${clean.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** One connected client as `status 3` reports it. */
export interface StatusClient {
  readonly commonName: string;
  readonly username: string;
  /** `ip:port` the client connects from. */
  readonly realAddress: string;
  /** Its address inside the tunnel ('' until one is assigned). */
  readonly virtualAddress: string;
  /** Bytes the server received from / sent to this client. */
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Unix time (s) the client connected. */
  readonly connectedSince: number;
  readonly clientId: number;
  readonly cipher: string;
}

/** The parts of `status 3` the appliance shows. */
export interface StatusReport {
  /** Unix time (s) of the report. */
  readonly time: number;
  readonly clients: readonly StatusClient[];
}

/**
 * Parses the `status 3` answer (openvpn(8) --status-version 3: tab-separated, each record type
 * described by a preceding HEADER line). Columns are found by their header name, so a version that
 * adds columns still parses.
 */
export function parseStatus3(lines: readonly string[]): StatusReport {
  const headers = new Map<string, string[]>();
  const clients: StatusClient[] = [];
  let time = 0;
  for (const line of lines) {
    const f = line.split('\t');
    const type = f[0];
    if (type === 'HEADER') headers.set(f[1]!, f.slice(2));
    else if (type === 'TIME') time = Number(f[2] ?? 0);
    else if (type === 'CLIENT_LIST') {
      const h = headers.get('CLIENT_LIST') ?? [];
      const col = (name: string) => {
        const i = h.indexOf(name);
        return i < 0 ? '' : (f[i + 1] ?? '');
      };
      const num = (name: string) => {
        const n = Number(col(name));
        return Number.isFinite(n) ? n : 0;
      };
      clients.push({
        commonName: col('Common Name'),
        username: col('Username'),
        realAddress: col('Real Address'),
        virtualAddress: col('Virtual Address'),
        bytesReceived: num('Bytes Received'),
        bytesSent: num('Bytes Sent'),
        connectedSince: num('Connected Since (time_t)'),
        clientId: num('Client ID'),
        cipher: col('Data Channel Cipher'),
      });
    }
  }
  return { time, clients };
}
