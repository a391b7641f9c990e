/**
 * Pure formatters for `show history` and `show users` (layout [OURS], after IOS `show users`).
 */
import type { SessionInfo } from '../../session/registry.ts';

/** Numbered list of this session's commands, oldest first. */
export function formatHistory(history: readonly string[]): string[] {
  return history.map((line, i) => `${String(i + 1).padStart(4)}  ${line}`);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `HH:MM:SS` of a duration in milliseconds. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
}

/** One line per CLI session; `*` marks the session asking. Console is `con 0`, others `vty N`. */
export function formatUsers(sessions: readonly SessionInfo[], self: number, now: number): string[] {
  const lines = [`${'   Line'.padEnd(13)}${'User'.padEnd(18)}${'Idle'.padEnd(11)}Location`];
  let vty = 0;
  for (const s of sessions) {
    const line = s.source === 'console' || s.source === 'script' ? 'con 0' : `vty ${vty++}`;
    const mark = s.id === self ? '*' : ' ';
    lines.push(`${mark}  ${line.padEnd(10)}${s.user.padEnd(18)}${formatDuration(now - s.idleSince).padEnd(10)} ${s.location}`);
  }
  return lines;
}
