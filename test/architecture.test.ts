/**
 * Directions of import (shared/DESIGN.md): the grammar engine knows no feature, the session does no
 * IO, engines never import the CLI, nothing imports transports but bin and app, and nothing outside
 * bin/ calls process.exit.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Top-level area of a src file: `cli`, `session`, `features`, … or `app` for src/app.ts. */
const area = (file: string) => relative(SRC, file).split('/')[0]!.replace(/\.ts$/, '');

function imports(file: string): { target: string }[] {
  const text = readFileSync(file, 'utf8');
  const out: { target: string }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
    if (m[3]!.startsWith('.')) out.push({ target: resolve(dirname(file), m[3]!) });
  }
  return out;
}

/**
 * Areas each area may import (shared/DESIGN.md "Directions of import"), with no exceptions: the CLI
 * engine knows no feature; engines (twofa, auth, radius, ldap, web, openvpn) never import the CLI,
 * sessions or features and read settings they define themselves; radius, web and openvpn share auth,
 * never each other; nothing imports transports but app (and bin, outside src/).
 */
const ALLOWED: Record<string, string[]> = {
  util: ['util'],
  cli: ['cli', 'util'],
  session: ['session', 'cli', 'util'],
  terminal: ['terminal', 'session', 'util'],
  config: ['config', 'util'],
  twofa: ['twofa', 'util'],
  web: ['web', 'auth', 'util'],
  auth: ['auth', 'twofa', 'util'],
  radius: ['radius', 'auth', 'util'],
  features: ['features', 'session', 'config', 'cli', 'util', 'twofa', 'auth', 'radius', 'ldap', 'openvpn', 'time', 'log'],
  transports: ['transports', 'terminal', 'session', 'cli', 'auth', 'util'],
  app: ['app', 'cli', 'session', 'config', 'features', 'twofa', 'auth', 'radius', 'ldap', 'openvpn', 'web', 'transports', 'util', 'time', 'log'],
  openvpn: ['openvpn', 'auth', 'util'],
  ldap: ['ldap', 'auth', 'util'],
  time: ['time', 'util'],
  log: ['log', 'util'],
};

test('imports follow the architecture', () => {
  const problems: string[] = [];
  for (const file of files(SRC)) {
    const from = area(file);
    const allowed = ALLOWED[from];
    if (!allowed) {
      problems.push(`${relative(ROOT, file)}: unknown area ${from}`);
      continue;
    }
    for (const { target } of imports(file)) {
      if (!target.startsWith(SRC)) continue;
      const to = area(target);
      if (!allowed.includes(to)) problems.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)} (${from} → ${to})`);
    }
  }
  assert.deepEqual(problems, []);
});

test('only bin/ calls process.exit', () => {
  const offenders = files(SRC).filter((f) => /process\.exit\(/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => relative(ROOT, f)), []);
});

test('nothing reads Date.now() but the clock', () => {
  const offenders = files(SRC).filter((f) => !f.endsWith('util/clock.ts') && /Date\.now\(\)/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => relative(ROOT, f)), []);
});

test('no import cycles between files of src/', () => {
  const graph = new Map(files(SRC).map((f) => [f, imports(f).map((i) => i.target).filter((t) => t.startsWith(SRC))]));
  const cycles: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' → '));
      return;
    }
    state.set(f, 'visiting');
    for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});
