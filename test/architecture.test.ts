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

function imports(file: string): { target: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { target: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
    if (m[3]!.startsWith('.')) out.push({ target: resolve(dirname(file), m[3]!), typeOnly: Boolean(m[2]) });
  }
  return out;
}

/** Areas each area may import at run time (type-only imports of `config` are allowed to `session`). */
const ALLOWED: Record<string, string[]> = {
  cli: ['cli', 'util'],
  session: ['session', 'cli', 'util'],
  config: ['config', 'util'],
  features: ['features', 'session', 'config', 'cli', 'util', 'twofa', 'radius'],
  twofa: ['twofa', 'util'],
  radius: ['radius', 'twofa', 'config', 'util'],
  terminal: ['terminal', 'session', 'util'],
  transports: ['transports', 'terminal', 'session', 'app', 'cli', 'config', 'util', 'features'],
  util: ['util'],
  web: ['web', 'twofa', 'util', 'config'],
  auth: ['auth', 'twofa', 'util'],
  time: ['time', 'util'],
  log: ['log', 'util'],
  app: ['cli', 'session', 'config', 'features', 'twofa', 'radius', 'terminal', 'transports', 'util', 'web'],
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
    for (const { target, typeOnly } of imports(file)) {
      if (!target.startsWith(SRC)) continue;
      const to = area(target);
      if (typeOnly && from === 'session' && to === 'config') continue;
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
