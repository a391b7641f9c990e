/** `show radius local-server statistics|nas|user` (layout [OURS]); keys and password hashes are never shown. */
import type { NasConfig } from '../../config/model.ts';

const MODE = { off: 'password (local users)', on: '2fa (code, then password)', only: '2fa only (the code alone)' } as const;

export function formatNas(nas: readonly NasConfig[]): string[] {
  const width = Math.max(18, ...nas.map((n) => n.address.length));
  const rows = nas.map((n) => `${n.address.padEnd(width)}  ${MODE[n.twofa].padEnd(27)}  ${n.requireMessageAuthenticator ? 'required' : 'checked if present'}`);
  return [`${'NAS'.padEnd(width)}  ${'Authentication'.padEnd(27)}  Message-Authenticator`, '-'.repeat(width + 52), ...(rows.length ? rows : ['(no NAS configured)'])];
}

export function formatLocalUsers(users: readonly string[]): string[] {
  return ['User', '-'.repeat(32), ...(users.length ? users : ['(no users configured)'])];
}

export function formatLocalStatistics(
  s: { received: number; requests: number; accepts: number; rejects: number; challenges: number; duplicates: number; statusServer: number; drops: ReadonlyMap<string, number>; reasons: ReadonlyMap<string, number> },
  status: { listening: boolean; port: number | undefined },
): string[] {
  return [
    'Local RADIUS server',
    `  State                : ${status.listening ? `listening on UDP ${status.port}` : 'not listening'}`,
    `  Datagrams received   : ${s.received}`,
    `  Access-Requests      : ${s.requests}`,
    `  Access-Accepts       : ${s.accepts}`,
    `  Access-Rejects       : ${s.rejects}`,
    `  Access-Challenges    : ${s.challenges}`,
    `  Duplicates answered  : ${s.duplicates}`,
    `  Status-Server        : ${s.statusServer}`,
    ...dropsAndCounts(s, '  Decisions by reason  :'),
  ];
}

/** "Dropped" with a line per reason, then `title` with a line per counted reason (decision or status). */
function dropsAndCounts(s: { drops: ReadonlyMap<string, number>; reasons: ReadonlyMap<string, number> }, title: string): string[] {
  const rows = (m: ReadonlyMap<string, number>) => [...m].sort().map(([reason, n]) => `    ${reason.padEnd(30)} ${n}`);
  return [`  Dropped              : ${[...s.drops.values()].reduce((a, b) => a + b, 0)}`, ...rows(s.drops), title, ...rows(s.reasons)];
}

/** The accounting port's part: requests, responses, drops, and the records by Acct-Status-Type. */
export function formatAccountingStatistics(
  s: { received: number; requests: number; responses: number; duplicates: number; statusServer: number; drops: ReadonlyMap<string, number>; reasons: ReadonlyMap<string, number> },
  status: { listening: boolean; port: number | undefined },
  configured: boolean,
): string[] {
  const state = status.listening ? `listening on UDP ${status.port}` : configured ? 'not listening' : 'off (no server acct-port)';
  return [
    'Local RADIUS accounting',
    `  State                : ${state}`,
    `  Datagrams received   : ${s.received}`,
    `  Accounting-Requests  : ${s.requests}`,
    `  Accounting-Responses : ${s.responses}`,
    `  Duplicates answered  : ${s.duplicates}`,
    `  Status-Server        : ${s.statusServer}`,
    ...dropsAndCounts(s, '  Records by status    :'),
  ];
}
