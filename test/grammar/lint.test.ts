/**
 * Lints over the real grammar/: it compiles (no duplicate paths, help conflicts, missing help), every
 * handler id is bound both ways, every command is reachable by its shortest unique abbreviation,
 * every config-mode command has a `no` form, and every keyword has help shown by `?`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { productGrammar } from '../../src/features/grammar.ts';
import type { GraphNode } from '../../src/cli/grammar/graph.ts';
import { matchLine } from '../../src/cli/match/matcher.ts';
import { handlers } from '../../src/features/index.ts';
import { checkBindings } from '../../src/session/session.ts';

/** Every path from the root to a terminal, as node lists. */
function paths(root: GraphNode): GraphNode[][] {
  const out: GraphNode[][] = [];
  const walk = (node: GraphNode, path: GraphNode[]) => {
    if (node.terminal) out.push(path);
    for (const c of node.children) walk(c, [...path, c]);
  };
  walk(root, []);
  return out;
}

/** A word that a variable of this type accepts, for building sample lines. */
function sample(node: GraphNode): string {
  const range = /^(\d+)-\d+$/.exec(node.type!.name);
  if (range) return range[1]!;
  for (const w of ['1', '10.0.0.1', '$1$bJoVec4D$JwOJGPr7YqoExA0GVasdE0', 'flash:/default.cfg', '12:00:00', 'jan', 'alice', 'JBSWY3DPEHPK3PXP', 'a@b.example', 'http://x.example/', 'postgresql://u@db.example/d', 'tunnel0', '10.0.0.0/8', 'x']) {
    if (node.type!.validate(w).ok) return w;
  }
  throw new Error(`no sample word for type ${node.type!.name}`);
}

/** The shortest prefix of `word` that no sibling keyword shares. */
function shortest(word: string, siblings: GraphNode[]): string {
  for (let n = 1; n <= word.length; n++) {
    const p = word.slice(0, n);
    if (!siblings.some((s) => s.kind === 'keyword' && s.word !== word && s.word.startsWith(p))) return p;
  }
  return word;
}

test('the product grammar compiles and binds every handler both ways', () => {
  assert.deepEqual(checkBindings(productGrammar(), handlers), []);
});

test('every command is reachable by its shortest unique abbreviation', () => {
  const problems: string[] = [];
  for (const [id, mode] of productGrammar().modes) {
    for (const path of paths(mode.root)) {
      let parent = mode.root;
      const words = path.map((node) => {
        const w = node.kind === 'keyword' ? shortest(node.word, parent.children) : sample(node);
        parent = node;
        return w;
      });
      const line = words.join(' ');
      const r = matchLine(mode.root, line, 15);
      const want = path[path.length - 1]!.terminal!.handler;
      if (r.kind !== 'matched' || r.state.node !== path[path.length - 1]) problems.push(`${id}: "${line}" → ${r.kind} (want ${want})`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every configuration command has a no form', () => {
  const config = productGrammar().modes.get('config')!.root;
  const no = config.children.find((c) => c.word === 'no');
  const negatable = new Set(no ? paths(no).map((p) => p[p.length - 1]!.terminal!.handler) : []);
  // Not settings: `2fa create user` (config mode in the manual) is undone by `2fa delete user`;
  // `line con 0` / `line vty` only enter the line's mode, where `no exec-timeout` resets.
  const exempt = new Set(['base.exit', 'base.end', 'base.do', '2fa.create-user', 'line.con', 'line.vty']);
  const missing = paths(config)
    .map((p) => p[p.length - 1]!.terminal!.handler)
    .filter((h) => !exempt.has(h) && !negatable.has(h));
  assert.deepEqual([...new Set(missing)], []);
});

test('no help text or CLI message cites an internal document (SPEC, research files, issues)', async () => {
  const internal = /\bSPEC\b|§|awplus-spec|research\/|\bissue #?\d|DESIGN\.md|\[(FOUND|INFERRED|OURS)/;
  const problems: string[] = [];
  const seen = new Set<unknown>();
  const visit = (node: { word: string; help: string; children: readonly unknown[] }, where: string) => {
    if (seen.has(node)) return;
    seen.add(node);
    if (internal.test(node.help)) problems.push(`${where} ${node.word}: ${node.help}`);
    for (const c of node.children) visit(c as typeof node, where);
  };
  for (const [id, mode] of productGrammar().modes) visit(mode.root, id);
  const { msg } = await import('../../src/cli/messages.ts');
  for (const [k, v] of Object.entries(msg)) {
    const text = typeof v === 'function' ? (v as (...a: string[]) => string)('X', 'Y', 'Z', 'W') : v;
    if (internal.test(String(text))) problems.push(`msg.${k}: ${text}`);
  }
  assert.deepEqual(problems, []);
});
