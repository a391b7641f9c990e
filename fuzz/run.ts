/**
 * `npm run fuzz` (SPEC §18): the reliability figures, measured against real daemons on 127.0.0.1.
 *   - RADIUS: 1 000 000 mutated and random datagrams, a fifth to the accounting port (--datagrams N, --seed S);
 *   - kill -9 under login load, 20 times (--kills N), every accepted code replayed after each restart;
 *   - as root, the flash filled under login load, on a tmpfs of its own.
 * Prints the figures and writes them to fuzz/results/latest.md (the README's Reliability table comes
 * from there); exits 1 when any of them is a failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { loginsThroughTrouble, SmallFlash, type TroubleFigures } from './flash.ts';
import { killUnderLoad } from './kills.ts';
import { fuzzRadius } from './radius.ts';

const { values } = parseArgs({
  options: {
    datagrams: { type: 'string', default: '1000000' },
    kills: { type: 'string', default: '20' },
    seed: { type: 'string' },
  },
});
const say = (text: string) => process.stderr.write(`${text}\n`);
const failures: string[] = [];
const rows: [string, string][] = [];

say(`RADIUS fuzzing: ${values.datagrams} datagrams`);
const f = await fuzzRadius({ datagrams: Number(values.datagrams), seed: values.seed ? Number(values.seed) : undefined, progress: say });
rows.push(
  [`RADIUS datagrams (mutated and random, ${Object.keys(f.classes).length} classes, ${f.accountingDatagrams.toLocaleString('en')} of them accounting; seed)`, `${f.datagrams.toLocaleString('en')} in ${f.seconds.toFixed(0)} s (seed ${f.seed}); the daemon counted ${f.daemonCounted.toLocaleString('en')}`],
  ['crashes / error lines in the daemon log', `${f.crashed ? 1 : 0} / ${f.errors.length}`],
  ['replies to an unknown client, a bad Message-Authenticator or Request Authenticator, or an Accounting-Request to discard', String(f.forbiddenReplies)],
  ['replies that do not verify (authenticators, Message-Authenticator first; Accounting-Response, Proxy-State echoed)', `${f.badReplies} of ${f.replies.toLocaleString('en')} (${f.accountingReplies.toLocaleString('en')} Accounting-Responses)`],
  ['liveness probes unanswered', `${f.probesUnanswered} of ${f.probes.toLocaleString('en')}`],
  ['daemon RSS at ready / after warm-up / half way / at the end (peak)', `${mb(f.rssReadyKb)} / ${mb(f.rssBeforeKb)} / ${mb(f.rssHalfKb)} / ${mb(f.rssAfterKb)} (${mb(f.peakKb)})`],
);
if (f.crashed) failures.push('the daemon crashed');
if (f.errors.length) failures.push(`${f.errors.length} error lines:\n${f.errors.slice(0, 10).join('\n')}`);
if (f.forbiddenReplies) failures.push(`${f.forbiddenReplies} replies to datagrams that must be discarded`);
if (f.badReplies) failures.push(`${f.badReplies} replies that do not verify`);
if (f.probesUnanswered) failures.push(`${f.probesUnanswered} probes unanswered`);

say(`kill -9 under login load: ${values.kills} times`);
const k = await killUnderLoad({ kills: Number(values.kills), progress: say });
const sorted = [...k.restartMs].sort((a, b) => a - b);
rows.push(
  ['kill -9 under login load (users)', `${k.kills} (${k.users} HOTP users, one login each in flight)`],
  ['accepted codes / replays after the restarts / accepted again', `${k.accepted.toLocaleString('en')} / ${k.replayed.toLocaleString('en')} / ${k.acceptedAgain.length}${k.coincidences ? ` (${k.coincidences} 6-digit coincidences with a code ahead, not replays)` : ''}`],
  ['users lost / HOTP counters behind an accepted code', `${k.usersLost.length} / ${k.countersBehind.length}`],
  ['restart, spawn to ready: median / max', `${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms / ${sorted.at(-1)?.toFixed(0)} ms`],
);
if (k.acceptedAgain.length) failures.push(`codes accepted again: ${JSON.stringify(k.acceptedAgain.slice(0, 10))}`);
if (k.usersLost.length) failures.push(`users lost: ${k.usersLost.join(', ')}`);
if (k.countersBehind.length) failures.push(`counters behind: ${k.countersBehind.slice(0, 10).join('; ')}`);
if (k.errors.length) failures.push(`${k.errors.length} error lines:\n${k.errors.slice(0, 10).join('\n')}`);

if (process.getuid?.() === 0) {
  say('full flash under login load');
  const fl = new SmallFlash('64m');
  let t: TroubleFigures;
  try {
    t = await loginsThroughTrouble(fl, { start: () => fl.fill(), end: () => fl.unfill() });
  } finally {
    fl.dispose();
  }
  rows.push(['full flash (a 64 MiB tmpfs filled for 1.5 s under login load): accepted before / while full / after space returned, no restart', `${t.acceptedBefore} / ${t.acceptedDuring} / ${t.acceptedAfter}`]);
  rows.push(['full flash, then kill -9 and a restart: codes replayed / accepted again / users lost / counters behind', `${t.replayed} / ${t.acceptedAgain} / ${t.usersLost.length} / ${t.countersBehind.length}`]);
  if (t.acceptedAgain || t.usersLost.length || t.countersBehind.length) failures.push(`full flash: ${JSON.stringify({ ...t, errors: t.errors.length })}`);
  if (t.acceptedAfter === 0) failures.push('full flash: no login after space returned');
} else say('full flash: skipped (it needs root to mount a tmpfs)');

const date = new Date().toISOString().slice(0, 10);
const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
const table = ['| figure | measured |', '|---|---|', ...rows.map(([a, b]) => `| ${a} | ${b} |`)].join('\n');
const report = `# npm run fuzz — ${date}\n\n${machine}\n\n${table}\n\n${failures.length ? `FAILURES:\n\n${failures.map((x) => `- ${x}`).join('\n')}\n` : 'No failure.\n'}`;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.md', import.meta.url), report);
process.stdout.write(report);
process.exitCode = failures.length ? 1 : 0;

function mb(kb: number): string {
  return `${(kb / 1024).toFixed(0)} MB`;
}
