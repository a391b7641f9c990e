/**
 * Output modifiers `| include RE`, `| exclude RE`, `| begin RE` (SPEC §3; FRR handle_pipe_action).
 * Keywords abbreviate like any other (`| inc`, awplus-spec.md §4.2 [FOUND S14]).
 */

/** A parsed modifier. */
export interface Filter {
  readonly kind: 'include' | 'exclude' | 'begin';
  readonly pattern: RegExp;
}

const KINDS = ['include', 'exclude', 'begin'] as const;

/** Help shown for `|` and after it. */
export const filterHelp = {
  pipe: 'Output modifiers',
  include: 'Include lines that match',
  exclude: 'Exclude lines that match',
  begin: 'Begin with the line that matches',
  regex: 'Regular expression',
} as const;

/**
 * Splits `line` at the first ` | ` into the command and its filter.
 * @returns the command part and the filter; `error` names what was wrong with the modifier part.
 */
export function splitFilter(line: string):
  | { readonly command: string; readonly filter: Filter | undefined }
  | { readonly command: string; readonly error: 'invalid' | 'incomplete' | 'regex'; readonly column: number; readonly text: string } {
  const m = /\s\|(\s+|$)/.exec(line);
  if (!m) return { command: line, filter: undefined };
  const command = line.slice(0, m.index);
  const restStart = m.index + m[0].length;
  const rest = line.slice(restStart);
  const kw = /^\S+/.exec(rest);
  if (!kw) return { command, error: 'incomplete', column: restStart, text: '' };
  const word = kw[0].toLowerCase();
  const kind = KINDS.find((k) => k.startsWith(word));
  if (!kind) return { command, error: 'invalid', column: restStart, text: kw[0] };
  const source = rest.slice(kw[0].length).trim();
  if (!source) return { command, error: 'incomplete', column: restStart, text: '' };
  try {
    return { command, filter: { kind, pattern: new RegExp(source) } };
  } catch {
    return { command, error: 'regex', column: restStart, text: source };
  }
}

/** Applies a filter to output lines. */
export function applyFilter(lines: readonly string[], filter: Filter): string[] {
  switch (filter.kind) {
    case 'include':
      return lines.filter((l) => filter.pattern.test(l));
    case 'exclude':
      return lines.filter((l) => !filter.pattern.test(l));
    case 'begin': {
      const i = lines.findIndex((l) => filter.pattern.test(l));
      return i < 0 ? [] : lines.slice(i);
    }
  }
}
