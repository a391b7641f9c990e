/**
 * `npm run bench`: runs the benchmarks, prints them and writes bench/results/latest.md with the machine
 * and date. Never part of `npm test` (no timing assertions in tests).
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { runBootBench } from './boot.ts';
import { runFirstFactorBench } from './first-factor.ts';
import { runLdapBench } from './ldap.ts';
import { runPostgresBench } from './postgresql.ts';
import { runRadiusBench } from './radius.ts';
import { runTotpBench } from './radius-totp.ts';
import { runTwofaBench } from './twofa.ts';

const header = ['| benchmark | ours | peer in the same run | peer time / ours |', '|---|---|---|---|'];
const rows = [...(await runTwofaBench()), ...(await runTotpBench()), ...(await runRadiusBench()), ...(await runFirstFactorBench()), ...(await runBootBench())];
rows.push(...(await runLdapBench()));
rows.push(...(await runPostgresBench()));
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const text = [`# Benchmarks`, '', `Machine: ${machine}`, `Date: ${new Date().toISOString()}`, '', ...header, ...rows, ''].join('\n');
process.stdout.write(text);
writeFileSync(new URL('./results/latest.md', import.meta.url), text);
