/**
 * A tiny structured logger: one JSON line per event (SPEC §11). Callers pass fields, never secrets.
 */

/** Where log events go. */
export interface Log {
  info(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/** Writes JSON lines to `write` (stderr in the daemon), stamped by `now`. */
export function jsonLog(write: (line: string) => void, now: () => number): Log {
  const emit = (level: string, event: string, fields: Record<string, unknown> = {}) =>
    write(JSON.stringify({ time: new Date(now()).toISOString(), level, event, ...fields }) + '\n');
  return { info: (e, f) => emit('info', e, f), error: (e, f) => emit('error', e, f) };
}

/** Keeps events in memory (tests). */
export function memoryLog(): Log & { readonly events: { level: string; event: string; fields: Record<string, unknown> }[] } {
  const events: { level: string; event: string; fields: Record<string, unknown> }[] = [];
  return {
    events,
    info: (event, fields = {}) => void events.push({ level: 'info', event, fields }),
    error: (event, fields = {}) => void events.push({ level: 'error', event, fields }),
  };
}
