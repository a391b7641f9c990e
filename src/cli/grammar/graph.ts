/**
 * Compiles parsed definitions into one command graph per mode (FRR command_graph.c): every definition
 * is expanded into its concrete token paths, which are merged into a tree. Compilation is also the
 * grammar lint: unknown modes/types, two handlers on one path, conflicting or missing help all fail.
 */
import { parseRange, looseValidators, type Validated, type Validator } from '../types.ts';
import { GrammarError, type Definition, type Element, type ModeSpec, type Origin, type RawGrammar } from './parse.ts';

/** A parameter type with its validator bound. */
export interface ResolvedType {
  readonly name: string;
  /** What `?` shows, e.g. `<1-15>`, `WORD`, `A.B.C.D`. */
  readonly display: string;
  readonly help: string;
  readonly validate: (word: string) => Validated;
  /** WORD-like types rank below keywords and specific types when several match. */
  readonly loose: boolean;
  /** LINE: takes the rest of the input line. */
  readonly rest: boolean;
}

/** Where a command path ends: the handler it runs. */
export interface Terminal {
  readonly handler: string;
  readonly privilege: number;
  /** Secret answers the command reads from the following input lines (grammar `@secrets N`). */
  readonly secrets: number;
  readonly origin: Origin;
}

/** A node of a mode's command graph. */
export interface GraphNode {
  readonly kind: 'root' | 'keyword' | 'variable';
  /** Keyword text (keywords) or variable name (variables). */
  readonly word: string;
  readonly type: ResolvedType | undefined;
  help: string;
  helpOrigin: Origin | undefined;
  readonly children: GraphNode[];
  terminal: Terminal | undefined;
  /** Lowest privilege of any command through this node: hidden from sessions below it. */
  minPrivilege: number;
  hidden: boolean;
}

/** A mode at run time. */
export interface Mode extends ModeSpec {
  readonly root: GraphNode;
}

/** The compiled grammar: modes with their graphs, and every handler id it binds. */
export interface Grammar {
  readonly modes: ReadonlyMap<string, Mode>;
  readonly handlers: ReadonlySet<string>;
}

type PathToken = { readonly k: 'kw'; readonly word: string } | { readonly k: 'var'; readonly name: string; readonly type: string };

/** Expands `[ ]` and `{ }` into every concrete sequence of tokens (AW+ notation: `[x]` optional, `{a|b}` one of). */
function expand(elements: readonly Element[]): PathToken[][] {
  let paths: PathToken[][] = [[]];
  for (const el of elements) {
    if (el.k === 'kw' || el.k === 'var') {
      paths = paths.map((p) => [...p, el]);
      continue;
    }
    const alternatives = el.alts.flatMap((alt) => expand(alt));
    if (el.k === 'opt') alternatives.unshift([]);
    paths = paths.flatMap((p) => alternatives.map((alt) => [...p, ...alt]));
  }
  return paths;
}

function resolveTypes(raw: RawGrammar, validators: Record<string, Validator>): Map<string, ResolvedType> {
  const types = new Map<string, ResolvedType>();
  for (const t of raw.types) {
    if (types.has(t.name)) throw new GrammarError(t.origin, `type "${t.name}" defined twice`);
    const v = validators[t.validator];
    if (!v) throw new GrammarError(t.origin, `unknown validator "${t.validator}"`);
    types.set(t.name, {
      name: t.name,
      display: t.display,
      help: t.help,
      validate: (w) => v(w, t.arg),
      loose: looseValidators.has(t.validator),
      rest: t.validator === 'line',
    });
  }
  return types;
}

/** A range written inline, `<level:1-15>`, needs no types.cli entry. */
function typeFor(name: string, types: Map<string, ResolvedType>, validators: Record<string, Validator>, origin: Origin): ResolvedType {
  const known = types.get(name);
  if (known) return known;
  if (/^\d+-\d+$/.test(name)) {
    const [lo, hi] = parseRange(name);
    if (lo > hi) throw new GrammarError(origin, `empty range ${name}`);
    const range = validators['range']!;
    const t: ResolvedType = {
      name,
      display: `<${name}>`,
      help: '',
      validate: (w) => range(w, name),
      loose: false,
      rest: false,
    };
    types.set(name, t);
    return t;
  }
  throw new GrammarError(origin, `unknown type "${name}"`);
}

function newNode(kind: GraphNode['kind'], word: string, type: ResolvedType | undefined): GraphNode {
  return { kind, word, type, help: '', helpOrigin: undefined, children: [], terminal: undefined, minPrivilege: 16, hidden: true };
}

/** Help a file gave a token anywhere, so `no hostname` can reuse the help `hostname` got above it. */
type FileHelp = Map<string, Map<string, string>>;

function collectFileHelp(raw: RawGrammar): FileHelp {
  const byFile: FileHelp = new Map();
  for (const def of raw.definitions) {
    const m = byFile.get(def.origin.file) ?? new Map<string, string>();
    byFile.set(def.origin.file, m);
    for (const [k, v] of def.help) if (!m.has(k)) m.set(k, v);
  }
  return byFile;
}

function setHelp(node: GraphNode, key: string, def: Definition, raw: RawGrammar, fileHelp: FileHelp): void {
  const own = def.help.get(key);
  if (own !== undefined) {
    if (node.helpOrigin && node.help !== own) {
      throw new GrammarError(def.origin, `help for "${key}" conflicts with ${node.helpOrigin.file}:${node.helpOrigin.line}`);
    }
    node.help = own;
    node.helpOrigin = def.origin;
    return;
  }
  if (node.help) return;
  const sameFile = fileHelp.get(def.origin.file)?.get(key);
  const shared = raw.help.get(key);
  if (sameFile !== undefined) node.help = sameFile;
  else if (shared) node.help = shared.text;
  else if (node.type) node.help = node.type.help;
}

function insert(
  root: GraphNode,
  path: PathToken[],
  def: Definition,
  raw: RawGrammar,
  fileHelp: FileHelp,
  types: Map<string, ResolvedType>,
  validators: Record<string, Validator>,
): void {
  let node = root;
  node.minPrivilege = Math.min(node.minPrivilege, def.privilege);
  path.forEach((tok, i) => {
    let child: GraphNode | undefined;
    if (tok.k === 'kw') {
      child = node.children.find((c) => c.kind === 'keyword' && c.word === tok.word);
      if (!child) node.children.push((child = newNode('keyword', tok.word, undefined)));
      setHelp(child, tok.word, def, raw, fileHelp);
    } else {
      const type = typeFor(tok.type, types, validators, def.origin);
      child = node.children.find((c) => c.kind === 'variable' && c.word === tok.name);
      if (child && child.type !== type) throw new GrammarError(def.origin, `variable <${tok.name}> has two types at one position`);
      if (!child) node.children.push((child = newNode('variable', tok.name, type)));
      setHelp(child, `<${tok.name}>`, def, raw, fileHelp);
      if (type.rest && i !== path.length - 1) throw new GrammarError(def.origin, `LINE variable <${tok.name}> must be last`);
    }
    if (!child.help) throw new GrammarError(def.origin, `no help for "${tok.k === 'kw' ? tok.word : `<${tok.name}>`}"`);
    child.minPrivilege = Math.min(child.minPrivilege, def.privilege);
    child.hidden = child.hidden && def.hidden;
    node = child;
  });
  if (node.terminal) {
    const o = node.terminal.origin;
    throw new GrammarError(def.origin, `path "${path.map((t) => (t.k === 'kw' ? t.word : `<${t.name}>`)).join(' ')}" already defined at ${o.file}:${o.line}`);
  }
  node.terminal = { handler: def.handler, privilege: def.privilege, secrets: def.secrets, origin: def.origin };
}

/** Builds and checks the graphs of every mode. Throws GrammarError on the first problem. */
export function compileGrammar(raw: RawGrammar, validators: Record<string, Validator>): Grammar {
  const types = resolveTypes(raw, validators);
  const modes = new Map<string, Mode>();
  for (const spec of raw.modes) {
    if (modes.has(spec.id)) throw new GrammarError(spec.origin, `mode "${spec.id}" defined twice`);
    modes.set(spec.id, { ...spec, root: newNode('root', '', undefined) });
  }
  for (const m of modes.values()) {
    if (m.parent !== undefined && !modes.has(m.parent)) throw new GrammarError(m.origin, `unknown parent mode "${m.parent}"`);
  }
  const handlers = new Set<string>();
  const fileHelp = collectFileHelp(raw);
  for (const def of raw.definitions) {
    handlers.add(def.handler);
    for (const id of def.modes) {
      const mode = modes.get(id);
      if (!mode) throw new GrammarError(def.origin, `unknown mode "${id}"`);
      for (const path of expand(def.elements)) insert(mode.root, path, def, raw, fileHelp, types, validators);
    }
  }
  return { modes, handlers };
}
