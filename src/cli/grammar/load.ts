/**
 * Reads every `*.cli` file of a grammar directory and compiles it (klish ischeme → kscheme).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinValidators, type Validator } from '../types.ts';
import { compileGrammar, type Grammar } from './graph.ts';
import { parseGrammarFile, type RawGrammar } from './parse.ts';

/** Parses grammar sources given as `{file name: text}` (tests use inline grammars). */
export function parseGrammarSources(sources: Record<string, string>): RawGrammar {
  const raw: RawGrammar = { definitions: [], modes: [], types: [], help: new Map() };
  for (const [file, text] of Object.entries(sources)) parseGrammarFile(file, text, raw);
  return raw;
}

/** Compiles grammar sources with the built-in validators plus `extra`. */
export function compileSources(sources: Record<string, string>, extra: Record<string, Validator> = {}): Grammar {
  return compileGrammar(parseGrammarSources(sources), { ...builtinValidators, ...extra });
}

/** Reads `dir/*.cli` in name order and compiles them. */
export function loadGrammar(dir: string, extra: Record<string, Validator> = {}): Grammar {
  const sources: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.cli')).sort()) {
    sources[name] = readFileSync(join(dir, name), 'utf8');
  }
  return compileSources(sources, extra);
}
