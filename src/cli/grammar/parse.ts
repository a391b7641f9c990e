/**
 * Parses the `.cli` grammar language (grammar/README.md) into plain definitions. No validation beyond
 * syntax happens here; `graph.ts` resolves names and checks the whole grammar.
 */

/** One element of a command's syntax, in AW+ command-reference notation. */
export type Element =
  | { readonly k: 'kw'; readonly word: string }
  | { readonly k: 'var'; readonly name: string; readonly type: string }
  | { readonly k: 'opt'; readonly alts: readonly (readonly Element[])[] } // [a | b]
  | { readonly k: 'choice'; readonly alts: readonly (readonly Element[])[] }; // {a | b}

/** Where a definition came from, for error messages and lints. */
export interface Origin {
  readonly file: string;
  readonly line: number;
}

/** A command definition line with its help lines. */
export interface Definition {
  readonly origin: Origin;
  /** The modes it is installed in (`@mode config,radius-local`: the same command in several modes). */
  readonly modes: readonly string[];
  readonly privilege: number;
  readonly hidden: boolean;
  /** `@secrets N`: the command always reads N secret answers (passwords) from the lines after it. */
  readonly secrets: number;
  readonly handler: string;
  readonly elements: readonly Element[];
  /** Help text keyed by keyword or by `<name>`. */
  readonly help: ReadonlyMap<string, string>;
}

/** A mode line of modes.cli. */
export interface ModeSpec {
  readonly origin: Origin;
  readonly id: string;
  readonly prompt: string;
  readonly parent: string | undefined;
  /** Lines that do not match here are retried in the parent mode (always in boot files). */
  readonly walkup: boolean;
  /** `do <exec command>` is available (config modes). */
  readonly allowDo: boolean;
}

/** A type line of types.cli. */
export interface TypeSpec {
  readonly origin: Origin;
  readonly name: string;
  readonly display: string;
  readonly validator: string;
  readonly arg: string | undefined;
  readonly help: string;
}

/** Everything one or more grammar files declare. */
export interface RawGrammar {
  readonly definitions: Definition[];
  readonly modes: ModeSpec[];
  readonly types: TypeSpec[];
  /** Shared keyword help (`@help` sections). */
  readonly help: Map<string, { text: string; origin: Origin }>;
}

/** A syntax error in a grammar file, with its position. */
export class GrammarError extends Error {
  constructor(origin: Origin, message: string) {
    super(`${origin.file}:${origin.line}: ${message}`);
    this.name = 'GrammarError';
  }
}

/** Splits a syntax string into tokens: brackets, bars, `<name:type>` and words. */
function tokenize(text: string, origin: Origin): string[] {
  const tokens: string[] = [];
  const re = /\s*(<[^>]*>|[[\]{}|]|[^\s[\]{}|<>]+)/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new GrammarError(origin, `cannot read syntax at "${text.slice(pos)}"`);
    tokens.push(m[1]!);
    pos = re.lastIndex;
  }
  return tokens;
}

/** Recursive-descent parse of the token list into elements. */
function parseElements(tokens: string[], origin: Origin): Element[] {
  let i = 0;
  const seq = (closers: string[]): Element[][] => {
    const alts: Element[][] = [[]];
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (closers.includes(t)) return alts;
      i++;
      if (t === '|') {
        if (closers.length === 0) throw new GrammarError(origin, "'|' outside brackets");
        alts.push([]);
      } else if (t === '[' || t === '{') {
        const close = t === '[' ? ']' : '}';
        const inner = seq([close]);
        if (tokens[i] !== close) throw new GrammarError(origin, `missing '${close}'`);
        i++;
        if (inner.some((a) => a.length === 0)) throw new GrammarError(origin, `empty alternative in '${t}${close}'`);
        alts[alts.length - 1]!.push({ k: t === '[' ? 'opt' : 'choice', alts: inner });
      } else if (t === ']' || t === '}') {
        throw new GrammarError(origin, `unexpected '${t}'`);
      } else if (t.startsWith('<')) {
        const m = /^<([a-z][a-z0-9-]*):([a-z0-9-]+)>$/.exec(t);
        if (!m) throw new GrammarError(origin, `bad variable "${t}" (want <name:type>)`);
        alts[alts.length - 1]!.push({ k: 'var', name: m[1]!, type: m[2]! });
      } else {
        if (!/^[a-z0-9][a-z0-9.:/_-]*$/.test(t)) throw new GrammarError(origin, `bad keyword "${t}"`);
        alts[alts.length - 1]!.push({ k: 'kw', word: t });
      }
    }
    if (closers.length > 0) throw new GrammarError(origin, `missing '${closers[0]}'`);
    return alts;
  };
  const alts = seq([]);
  if (alts.length !== 1 || alts[0]!.length === 0) throw new GrammarError(origin, 'empty command');
  return alts[0]!;
}

/** Reads `key value` attribute pairs such as `@privilege 15 @hidden`. */
function parseAttributes(text: string, origin: Origin): Map<string, string> {
  const attrs = new Map<string, string>();
  const re = /@([a-z]+)(?:\s+([^@\s]+))?/g;
  for (const m of text.matchAll(re)) attrs.set(m[1]!, m[2] ?? '');
  if (text.replace(re, '').trim() !== '') throw new GrammarError(origin, `cannot read attributes "${text}"`);
  return attrs;
}

/** Parses one grammar file's text into `into`. */
export function parseGrammarFile(file: string, text: string, into: RawGrammar): void {
  let mode: string | undefined;
  let privilege = 1;
  let section: 'commands' | 'help' | 'modes' | 'types' = 'commands';
  let pending: { origin: Origin; syntax: string; tail: string; help: Map<string, string> } | undefined;

  const flush = (): void => {
    if (!pending) return;
    const { origin, syntax, tail, help } = pending;
    pending = undefined;
    const arrow = tail.indexOf('=>');
    if (arrow < 0) throw new GrammarError(origin, 'definition without "=> feature.action"');
    const rest = tail.slice(arrow + 2).trim();
    const m = /^([a-z0-9-]+\.[a-z0-9-]+)\s*(.*)$/.exec(rest);
    if (!m) throw new GrammarError(origin, `bad handler id in "${rest}"`);
    const attrs = parseAttributes(m[2]!, origin);
    for (const k of attrs.keys()) if (!['privilege', 'hidden', 'source', 'secrets'].includes(k)) throw new GrammarError(origin, `unknown attribute @${k}`);
    const secrets = attrs.has('secrets') ? Number(attrs.get('secrets')) : 0;
    if (!Number.isInteger(secrets) || secrets < 0 || secrets > 9) throw new GrammarError(origin, '@secrets must be 0-9');
    if (!mode) throw new GrammarError(origin, 'definition before any @mode');
    const elements = parseElements(tokenize(syntax, origin), origin);
    into.definitions.push({
      origin,
      modes: mode.split(','),
      privilege: attrs.has('privilege') ? Number(attrs.get('privilege')) : privilege,
      hidden: attrs.has('hidden'),
      secrets,
      handler: m[1]!,
      elements,
      help,
    });
  };

  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const origin = { file, line: index + 1 };
    const line = raw.replace(/\s+$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const indented = /^\s/.test(line);

    if (!indented && trimmed.startsWith('@')) {
      flush();
      const attrs = parseAttributes(trimmed, origin);
      if (attrs.has('help')) section = 'help';
      else if (attrs.has('modes')) section = 'modes';
      else if (attrs.has('types')) section = 'types';
      else section = 'commands';
      if (attrs.has('mode')) mode = attrs.get('mode');
      if (attrs.has('privilege')) privilege = Number(attrs.get('privilege'));
      else if (attrs.has('mode')) privilege = 1;
      if (!Number.isInteger(privilege) || privilege < 1 || privilege > 15) throw new GrammarError(origin, 'privilege must be 1-15');
      return;
    }

    if (section === 'help') {
      const m = /^(\S+)\s{2,}(\S.*)$/.exec(trimmed);
      if (!m) throw new GrammarError(origin, 'help line must be "keyword  text"');
      if (into.help.has(m[1]!)) throw new GrammarError(origin, `help for "${m[1]}" given twice`);
      into.help.set(m[1]!, { text: m[2]!, origin });
      return;
    }
    if (section === 'modes') {
      const m = /^mode\s+([a-z][a-z0-9-]*)\s+prompt\s+"([^"]+)"(.*)$/.exec(trimmed);
      if (!m) throw new GrammarError(origin, 'mode line must be: mode ID prompt "TEMPLATE" [parent ID] [walkup] [do]');
      const words = m[3]!.trim().split(/\s+/).filter(Boolean);
      let parent: string | undefined;
      let walkup = false;
      let allowDo = false;
      for (let i = 0; i < words.length; i++) {
        if (words[i] === 'parent' && words[i + 1]) parent = words[++i];
        else if (words[i] === 'walkup') walkup = true;
        else if (words[i] === 'do') allowDo = true;
        else throw new GrammarError(origin, `unknown mode attribute "${words[i]}"`);
      }
      into.modes.push({ origin, id: m[1]!, prompt: m[2]!, parent, walkup, allowDo });
      return;
    }
    if (section === 'types') {
      const m = /^type\s+([a-z][a-z0-9-]*)\s+(\S+)\s+([a-z0-9-]+)(?::(\S+))?\s+(\S.*)$/.exec(trimmed);
      if (!m) throw new GrammarError(origin, 'type line must be: type NAME DISPLAY VALIDATOR[:ARG] help');
      into.types.push({ origin, name: m[1]!, display: m[2]!, validator: m[3]!, arg: m[4], help: m[5]! });
      return;
    }

    if (!indented) {
      flush();
      const arrow = trimmed.indexOf('=>');
      pending =
        arrow >= 0
          ? { origin, syntax: trimmed.slice(0, arrow), tail: trimmed.slice(arrow), help: new Map() }
          : { origin, syntax: trimmed, tail: '', help: new Map() };
      return;
    }
    if (!pending) throw new GrammarError(origin, 'indented line outside a definition');
    if (trimmed.startsWith('=>')) {
      if (pending.tail) throw new GrammarError(origin, 'second "=>" for one definition');
      pending.tail = trimmed;
      return;
    }
    const m = /^(<[a-z][a-z0-9-]*>|[a-z0-9][a-z0-9.:/_-]*)\s{2,}(\S.*)$/.exec(trimmed);
    if (!m) throw new GrammarError(origin, 'help line must be "token  text" (two spaces between)');
    if (pending.help.has(m[1]!)) throw new GrammarError(origin, `help for "${m[1]}" given twice`);
    pending.help.set(m[1]!, m[2]!);
  });
  flush();
}
