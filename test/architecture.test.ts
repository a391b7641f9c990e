/**
 * Directions of import (shared/DESIGN.md): the grammar engine knows no feature, the session does no
 * IO, engines never import the CLI, nothing imports transports but bin and app, and nothing outside
 * bin/ calls process.exit.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

/** Every .ts file under test/, bench/ and fuzz/. */
function testFiles(): string[] {
  return ['test', 'bench', 'fuzz'].map((d) => join(ROOT, d)).filter((d) => existsSync(d)).flatMap((d) => files(d));
}

test('tests start real peers through peer(), which fails at once naming the Debian package', () => {
  // A literal program name handed to spawn/exec would meet a missing program as an ENOENT at run time
  // (uncaught, or a wait for a reply that never comes) instead of "apt-get install PACKAGE".
  const literal = /\b(spawn|spawnSync|execFile|execFileSync|exec|execSync)\(\s*['"`]/;
  const offenders = testFiles()
    .filter((f) => !f.endsWith('helpers/peers.ts'))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ f, line, i })))
    .filter(({ line }) => literal.test(line))
    .map(({ f, line, i }) => `${relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
  assert.deepEqual(offenders, []);
});

test('a missing peer fails at once, naming its Debian package, instead of hanging', async () => {
  const { spawn } = await import('node:child_process');
  // PATH with nothing on it: radclient and zbarimg (in /usr/bin) are not found, whatever this host has.
  const script = [
    `const { radclient } = await import(${JSON.stringify(join(ROOT, 'test/helpers/radclient.ts'))});`,
    `const { decodeQr } = await import(${JSON.stringify(join(ROOT, 'test/web/browser.ts'))});`,
    "for (const f of [() => radclient([], { server: '127.0.0.1:9', secret: 'x' }), () => decodeQr('/nonexistent.png')]) {",
    '  try { await f(); console.log("no error"); } catch (e) { console.log(e.message); }',
    '}',
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { PATH: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const t = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, out);
  assert.match(out, /radclient is not installed: apt-get install freeradius-utils/, out);
  assert.match(out, /zbarimg is not installed: apt-get install zbar-tools/, out);
  assert.ok(performance.now() - t < 20000, `took ${(performance.now() - t).toFixed(0)} ms`);
});

test('.ci/run installs every peer package the tests name, or prints the one apt-get line', async () => {
  const { PEERS, peer, requireBinary } = await import('./helpers/peers.ts');
  const run = readFileSync(join(ROOT, '.ci/run'), 'utf8');
  // Essential packages are on every Debian system; npm comes with Node.
  const essential = new Set(['bsdutils', 'util-linux', 'mount', 'dash', 'coreutils', 'npm']);
  const missing = [...new Set(Object.values(PEERS))].filter((p) => !essential.has(p) && !new RegExp(`need\\+=\\([^)]*\\b${p}\\b`).test(run));
  assert.deepEqual(missing, [], 'packages test/helpers/peers.ts names that .ci/run does not install');

  // Without root and without radclient & co on PATH: the apt-get line, exit 1, nothing installed or run.
  const { spawnSync } = await import('node:child_process');
  const { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'awplus-ci-'));
  try {
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, '.ci'));
    copyFileSync(join(ROOT, '.ci/run'), join(dir, '.ci/run'));
    mkdirSync(join(dir, 'bin'));
    for (const [tool, pkg] of [['bash', 'bash'], ['id', 'coreutils'], ['dirname', 'coreutils']] as const) symlinkSync(requireBinary(tool, pkg), join(dir, 'bin', tool));
    const asRoot = process.getuid?.() === 0;
    const bash = join(dir, 'bin', 'bash');
    const argv = asRoot ? [peer('setpriv'), '--reuid=65534', '--regid=65534', '--clear-groups', bash, join(dir, '.ci/run')] : [bash, join(dir, '.ci/run')];
    const r = spawnSync(argv[0]!, argv.slice(1), { env: { PATH: join(dir, 'bin') }, encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 1, `exit status ${r.status}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^ {2}apt-get install -y --no-install-recommends .*\bfreeradius-utils\b.*$/m, r.stderr);
    assert.ok(!/npm/.test(r.stdout), 'it went on to npm');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
