/** `show radius local-server statistics` (layout [OURS]). */

export function formatLocalStatistics(
  s: { requests: number; accepts: number; rejects: number; challenges: number; duplicates: number; drops: ReadonlyMap<string, number>; reasons: ReadonlyMap<string, number> },
  status: { listening: boolean; port: number | undefined },
): string[] {
  const lines = [
    'Local RADIUS server',
    `  State                : ${status.listening ? `listening on UDP ${status.port}` : 'not listening'}`,
    `  Access-Requests      : ${s.requests}`,
    `  Access-Accepts       : ${s.accepts}`,
    `  Access-Rejects       : ${s.rejects}`,
    `  Access-Challenges    : ${s.challenges}`,
    `  Duplicates answered  : ${s.duplicates}`,
    `  Dropped              : ${[...s.drops.values()].reduce((a, b) => a + b, 0)}`,
  ];
  for (const [reason, n] of [...s.drops].sort()) lines.push(`    ${reason.padEnd(30)} ${n}`);
  lines.push('  Decisions by reason  :');
  for (const [reason, n] of [...s.reasons].sort()) lines.push(`    ${reason.padEnd(30)} ${n}`);
  return lines;
}
