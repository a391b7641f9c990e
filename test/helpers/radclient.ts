/**
 * radclient (Debian freeradius-utils) as the NAS: one request, its attribute lines on stdin. Async,
 * because the server under test may run in this process; radclient's own -t/-r bound the wait and a
 * kill timer is the backstop. A missing binary fails at once, naming the package.
 */
import { spawn } from 'node:child_process';
import { peer } from './peers.ts';

export interface RadclientReply {
  /** accept, reject, challenge, accounting-response, or none (no answer). */
  readonly kind: 'accept' | 'reject' | 'challenge' | 'accounting-response' | 'none';
  /** The State of a challenge, as radclient prints it (0x…). */
  readonly state: string | undefined;
  /** The Reply-Message, if any. */
  readonly message: string | undefined;
  readonly out: string;
}

export interface RadclientOptions {
  /** `host:port`; IPv6 as `[::1]:1812`. */
  readonly server: string;
  readonly secret: string;
  /** Add a Message-Authenticator (default yes). */
  readonly ma?: boolean;
  /** More radclient arguments (`-r 3`). */
  readonly extra?: readonly string[];
  /** radclient -t (seconds per try). */
  readonly timeout?: number;
  /** An Access-Request (default), an Accounting-Request (no Message-Authenticator is added) or a Status-Server (RFC 5997). */
  readonly type?: 'auth' | 'acct' | 'status';
}

export async function radclient(lines: readonly string[], o: RadclientOptions): Promise<RadclientReply> {
  const type = o.type ?? 'auth';
  const input = [...lines, ...(o.ma === false || type === 'acct' ? [] : ['Message-Authenticator = 0x00'])].join('\n') + '\n';
  const t = o.timeout ?? 1;
  const child = spawn(peer('radclient'), ['-x', '-t', String(t), '-r', '1', ...(o.extra ?? []), o.server, type, o.secret]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), (t * 4 + 10) * 1000);
  await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const kind = /Received Access-Accept/.test(out)
    ? 'accept'
    : /Received Access-Reject/.test(out)
      ? 'reject'
      : /Received Access-Challenge/.test(out)
        ? 'challenge'
        : /Received Accounting-Response/.test(out)
          ? 'accounting-response'
          : 'none';
  return { kind, out, state: /State = (0x[0-9a-f]+)/.exec(out)?.[1], message: /Reply-Message = "([^"]*)"/.exec(out)?.[1] };
}
