/**
 * `?` help and TAB completion (FRR command_complete): what may come next after a partial line.
 */
import type { GraphNode } from '../grammar/graph.ts';
import { ambiguousWord, nextNodes, splitWords, walk, type State } from './matcher.ts';

/** One line of `?` output: a token and its help. */
export interface HelpEntry {
  readonly token: string;
  readonly help: string;
}

/** What `?` found: candidates, or why there are none. */
export type HelpResult =
  | { readonly kind: 'candidates'; readonly entries: readonly HelpEntry[] }
  | { readonly kind: 'invalid'; readonly column: number }
  | { readonly kind: 'ambiguous'; readonly text: string };

/** The token `<cr>` stands for "the command may end here" (IOS/AW+ convention). */
export const CR = '<cr>';

interface Position {
  states: State[];
  /** The partial word being typed (empty after a space). */
  partial: string;
}

function position(root: GraphNode, line: string, privilege: number): Position | { column: number } | { ambiguous: string } {
  const atWordEnd = line === '' || /\s$/.test(line);
  const words = splitWords(line);
  const partial = atWordEnd ? '' : words.pop()!.text;
  const walked = walk(root, words, line, privilege);
  if (!walked.ok) return { column: walked.column };
  const amb = ambiguousWord(walked.states, words, line);
  if (amb !== undefined && atWordEnd) return { ambiguous: amb };
  return { states: walked.states, partial };
}

const keywordsFirst = (a: GraphNode, b: GraphNode): number =>
  a.kind === b.kind ? (a.kind === 'keyword' ? a.word.localeCompare(b.word) : 0) : a.kind === 'variable' ? -1 : 1;

/** Candidates for `?` at the end of `line`. */
export function helpFor(root: GraphNode, line: string, privilege: number): HelpResult {
  const pos = position(root, line, privilege);
  if ('column' in pos) return { kind: 'invalid', column: pos.column };
  if ('ambiguous' in pos) return { kind: 'ambiguous', text: pos.ambiguous };
  const { states, partial } = pos;
  const lower = partial.toLowerCase();
  const entries: HelpEntry[] = [];
  const seen = new Set<string>();
  for (const node of nextNodes(states, privilege).filter((n) => !n.hidden).sort(keywordsFirst)) {
    let token: string;
    if (node.kind === 'keyword') {
      if (!node.word.startsWith(lower)) continue;
      token = node.word;
    } else {
      if (partial && !node.type!.rest && !node.type!.validate(partial).ok) continue;
      token = node.type!.display;
    }
    if (seen.has(token)) continue;
    seen.add(token);
    entries.push({ token, help: node.help });
  }
  const endsHere = states.some((s) => s.node.terminal && s.node.terminal.privilege <= privilege);
  const lineGoesOn = states.some((s) => s.done);
  if (!partial && (endsHere || lineGoesOn)) entries.push({ token: CR, help: '' });
  return { kind: 'candidates', entries };
}

/** TAB at the end of `line`: the completed line, or the candidates when the word is not unique. */
export function completeLine(root: GraphNode, line: string, privilege: number): { line: string; candidates: string[] } {
  const pos = position(root, line, privilege);
  if (!('states' in pos)) return { line, candidates: [] };
  const { states, partial } = pos;
  const lower = partial.toLowerCase();
  const words = [
    ...new Set(
      nextNodes(states, privilege)
        .filter((n) => n.kind === 'keyword' && !n.hidden && n.word.startsWith(lower))
        .map((n) => n.word),
    ),
  ].sort();
  if (words.length === 0) return { line, candidates: [] };
  const base = line.slice(0, line.length - partial.length);
  if (words.length === 1) return { line: `${base}${words[0]} `, candidates: [] };
  if (partial === '') return { line, candidates: words };
  let common = words[0]!;
  for (const w of words) while (!w.startsWith(common)) common = common.slice(0, -1);
  if (common.length > partial.length) return { line: base + common, candidates: [] };
  return { line, candidates: words };
}

/** Formats help entries as AW+ prints them: two-space indent, tokens padded to one column. */
export function formatHelp(entries: readonly HelpEntry[]): string {
  const width = Math.max(0, ...entries.map((e) => e.token.length)) + 2;
  return entries.map((e) => (e.help ? `  ${e.token.padEnd(width)}${e.help}` : `  ${e.token}`)).join('\n') + '\n';
}
