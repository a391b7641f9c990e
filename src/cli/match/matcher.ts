/**
 * Matches an input line against a mode's command graph (FRR command_match.c, clipanion's state
 * machine). All paths are followed at once, so a later word can decide between earlier prefixes
 * (`sh 2fa us` → `users`, because `user` needs a name). Per word, an exact keyword beats a keyword
 * prefix (IOS rule: `show 2fa user` never means `users`); at the end the best-ranked complete path wins.
 */
import type { GraphNode } from '../grammar/graph.ts';

/** A word of the input line with its column. */
export interface Word {
  readonly text: string;
  readonly start: number;
}

/**
 * Splits a line into whitespace-separated words, remembering where each starts. A double-quoted
 * string is one word without its quotes (IOS/AW+ convention: `secret "JBSW Y3DP …"`).
 */
export function splitWords(line: string): Word[] {
  const words: Word[] = [];
  for (const m of line.matchAll(/"([^"]*)"?|\S+/g)) words.push({ text: m[1] ?? m[0], start: m.index! });
  return words;
}

/** A LINE value: the rest of the line as typed, or the text inside when it is one double-quoted string, as for a word. */
function restOfLine(rest: string): string {
  return /^"[^"]*"$/.test(rest) ? rest.slice(1, -1) : rest;
}

/** How well one word matched one node: higher is better. */
const enum Rank {
  Loose = 1, // WORD, LINE
  Prefix = 2, // keyword prefix, or a specific type (range, A.B.C.D, …)
  Exact = 3, // whole keyword
}

/** One live path through the graph. */
export interface State {
  readonly node: GraphNode;
  readonly args: Readonly<Record<string, unknown>>;
  readonly ranks: readonly Rank[];
  /** The keyword matched at each word position (undefined for variables), for ambiguity reports. */
  readonly keywords: readonly (string | undefined)[];
  /** Whether each word was a keyword prefix rather than the whole keyword. */
  readonly prefixes: readonly boolean[];
  /** A LINE variable took the rest of the line. */
  readonly done: boolean;
}

/** Result of matching a whole line. */
export type MatchResult =
  | { readonly kind: 'matched'; readonly state: State }
  | { readonly kind: 'empty' }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'ambiguous'; readonly text: string }
  | { readonly kind: 'invalid'; readonly column: number };

/** A node is usable by a session of this privilege. */
export function visible(node: GraphNode, privilege: number): boolean {
  return node.minPrivilege <= privilege;
}

/** Children of the live states that the session may use. */
export function nextNodes(states: readonly State[], privilege: number): GraphNode[] {
  const seen = new Set<GraphNode>();
  for (const s of states) if (!s.done) for (const c of s.node.children) if (visible(c, privilege)) seen.add(c);
  return [...seen];
}

/** Advances every state by one word; returns the surviving states (possibly none). */
function step(states: readonly State[], words: readonly Word[], index: number, line: string, privilege: number): State[] {
  const word = words[index]!;
  const lower = word.text.toLowerCase();
  const next: State[] = [];
  for (const s of states) {
    if (s.done) continue;
    for (const child of s.node.children) {
      if (!visible(child, privilege)) continue;
      const push = (rank: Rank, args: Record<string, unknown>, keyword: string | undefined, prefix: boolean, done = false) =>
        next.push({
          node: child,
          args,
          ranks: [...s.ranks, rank],
          keywords: [...s.keywords, keyword],
          prefixes: [...s.prefixes, prefix],
          done,
        });
      if (child.kind === 'keyword') {
        if (child.word === lower) push(Rank.Exact, { ...s.args, [child.word]: true }, child.word, false);
        else if (child.word.startsWith(lower)) push(Rank.Prefix, { ...s.args, [child.word]: true }, child.word, true);
      } else if (child.type!.rest) {
        push(Rank.Loose, { ...s.args, [child.word]: restOfLine(line.slice(word.start).trimEnd()) }, undefined, false, true);
      } else {
        const v = child.type!.validate(word.text);
        if (v.ok) push(child.type!.loose ? Rank.Loose : Rank.Prefix, { ...s.args, [child.word]: v.value }, undefined, false);
      }
    }
  }
  // IOS rule: a word that spells a keyword exactly is that keyword, never a prefix of a longer one.
  if (next.some((s) => s.ranks[index] === Rank.Exact)) {
    return next.filter((s) => s.ranks[index] !== Rank.Prefix || s.keywords[index] === undefined);
  }
  return next;
}

/** Column of the first character no candidate keyword accepts (the `^` marker). */
function caretColumn(word: Word, candidates: readonly GraphNode[]): number {
  const lower = word.text.toLowerCase();
  let best = 0;
  for (const c of candidates) {
    if (c.kind !== 'keyword') continue;
    let n = 0;
    while (n < lower.length && n < c.word.length && lower[n] === c.word[n]) n++;
    best = Math.max(best, n);
  }
  return word.start + Math.min(best, word.text.length - 1);
}

/** Walks `words`; returns the live states or where the walk failed. */
export function walk(
  root: GraphNode,
  words: readonly Word[],
  line: string,
  privilege: number,
): { ok: true; states: State[] } | { ok: false; column: number } {
  let states: State[] = [{ node: root, args: {}, ranks: [], keywords: [], prefixes: [], done: false }];
  for (let i = 0; i < words.length; i++) {
    if (states.every((s) => s.done)) break;
    const next = step(states, words, i, line, privilege);
    if (next.length === 0) return { ok: false, column: caretColumn(words[i]!, nextNodes(states, privilege)) };
    states = next;
  }
  return { ok: true, states };
}

/** The first word position where live paths took different keywords by prefix, if any. */
export function ambiguousWord(states: readonly State[], words: readonly Word[], line: string): string | undefined {
  const n = words.length;
  for (let i = 0; i < n; i++) {
    const kws = new Set<string>();
    for (const s of states) if (s.prefixes[i] && s.keywords[i] !== undefined) kws.add(s.keywords[i]!);
    if (kws.size > 1) return line.slice(words[0]!.start, words[i]!.start + words[i]!.text.length);
  }
  return undefined;
}

/** `a` is at least as good as `b` at every word and better at one. */
function dominates(a: State, b: State): boolean {
  let better = false;
  const n = Math.max(a.ranks.length, b.ranks.length);
  for (let i = 0; i < n; i++) {
    // A LINE variable covers every later word loosely.
    const ra = a.ranks[i] ?? Rank.Loose;
    const rb = b.ranks[i] ?? Rank.Loose;
    if (ra < rb) return false;
    if (ra > rb) better = true;
  }
  return better;
}

/** Matches a complete line. */
export function matchLine(root: GraphNode, line: string, privilege: number): MatchResult {
  const words = splitWords(line);
  if (words.length === 0) return { kind: 'empty' };
  const walked = walk(root, words, line, privilege);
  if (!walked.ok) return { kind: 'invalid', column: walked.column };
  const complete = walked.states.filter((s) => s.node.terminal && s.node.terminal.privilege <= privilege);
  if (complete.length === 0) {
    const amb = ambiguousWord(walked.states, words, line);
    return amb !== undefined ? { kind: 'ambiguous', text: amb } : { kind: 'incomplete' };
  }
  const best = complete.filter((s) => !complete.some((o) => o !== s && dominates(o, s)));
  const targets = new Set(best.map((s) => s.node));
  if (targets.size > 1) {
    return { kind: 'ambiguous', text: ambiguousWord(best, words, line) ?? line.trim() };
  }
  return { kind: 'matched', state: best[0]! };
}
