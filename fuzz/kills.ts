/**
 * `kill -9` of the daemon at random moments under login load, again and again (SPEC §10, §18): after
 * every restart each code accepted before the crash is sent again and must be refused, every user must
 * still be there with its HOTP counter past the last code it was accepted with, and the restart time
 * (spawn to `ready`) is measured. At the end every code accepted in the whole run is replayed once more.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../test/helpers/ports.ts';
import { RadiusProbe } from '../test/helpers/radius-probe.ts';
import { FuzzDaemon } from './daemon.ts';
import { checkStore, createUsers, faultConfig, NAS_KEY, newUsers, replay, runLoad, type LoginUser } from './logins.ts';

export interface KillOptions {
  readonly kills: number;
  readonly users?: number;
  /** Load runs this long (a random moment between the two, ms) before each kill. */
  readonly minLoadMs?: number;
  readonly maxLoadMs?: number;
  /** A flash directory to use (kept); a temporary one otherwise. */
  readonly flash?: string;
  readonly progress?: (text: string) => void;
}

export interface KillFigures {
  readonly kills: number;
  readonly users: number;
  /** Codes accepted over the whole run. */
  readonly accepted: number;
  /** Replays sent (after each restart, and all of them again at the end). */
  readonly replayed: number;
  /** Replays that were accepted: must be none. */
  readonly acceptedAgain: readonly { user: string; counter: number }[];
  /** Replays accepted because the old code equals one still ahead in the HOTP window (not a replay). */
  readonly coincidences: number;
  readonly unanswered: number;
  /** Users missing after a restart. */
  readonly usersLost: readonly string[];
  /** Users whose stored counter was not past their last accepted code after a restart. */
  readonly countersBehind: readonly string[];
  /** Spawn to `ready`, per restart (ms). */
  readonly restartMs: readonly number[];
  /** Error lines in the daemon's log over the run. */
  readonly errors: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function killUnderLoad(o: KillOptions): Promise<KillFigures> {
  const flash = o.flash ?? mkdtempSync(join(tmpdir(), 'awplus-kills-'));
  const port = await freeUdpPort();
  writeFileSync(join(flash, 'default.cfg'), faultConfig(port));
  const users = newUsers(o.users ?? 16);
  const probe = await RadiusProbe.open(port, NAS_KEY);
  const restartMs: number[] = [];
  const errors: string[] = [];
  const acceptedAgain: { user: string; counter: number }[] = [];
  const usersLost = new Set<string>();
  const countersBehind: string[] = [];
  let replayed = 0;
  let coincidences = 0;
  let unanswered = 0;
  let daemon: FuzzDaemon | undefined;
  const judge = async (codes: { user: LoginUser; counter: number; code: string }[]) => {
    const r = await replay(probe, codes);
    replayed += r.replayed;
    coincidences += r.coincidences;
    unanswered += r.unanswered;
    acceptedAgain.push(...r.acceptedAgain);
    const store = await checkStore(daemon!, users);
    for (const u of store.lost) usersLost.add(u);
    countersBehind.push(...store.behind);
    // Replays are failures: 100 in a second lock a user for a second (faultConfig). Let it pass.
    await sleep(1100);
  };
  try {
    ({ daemon } = await FuzzDaemon.start(flash));
    await createUsers(daemon, users);
    for (let k = 0; k < o.kills; k++) {
      const before = new Map(users.map((u) => [u, u.accepted.length]));
      const d = daemon;
      const load = runLoad(probe, users, () => d.alive);
      const min = o.minLoadMs ?? 200;
      const max = o.maxLoadMs ?? 1500;
      await sleep(min + Math.random() * (max - min));
      await d.kill9();
      await load.stop();
      errors.push(...d.errors);
      const started = await FuzzDaemon.start(flash);
      daemon = started.daemon;
      restartMs.push(started.readyMs);
      const fresh = users.flatMap((u) => u.accepted.slice(before.get(u)).map((a) => ({ user: u, ...a })));
      await judge(fresh);
      o.progress?.(`kill ${k + 1}/${o.kills}: ${fresh.length} accepted before it, ready again in ${started.readyMs.toFixed(0)} ms; accepted again so far: ${acceptedAgain.length}`);
    }
    // Every code of the whole run, once more, on the last daemon.
    await judge(users.flatMap((u) => u.accepted.map((a) => ({ user: u, ...a }))));
    errors.push(...daemon.errors);
    return {
      kills: o.kills,
      users: users.length,
      accepted: users.reduce((n, u) => n + u.accepted.length, 0),
      replayed,
      acceptedAgain,
      coincidences,
      unanswered,
      usersLost: [...usersLost],
      countersBehind,
      restartMs,
      errors,
    };
  } finally {
    probe.close();
    await daemon?.stop();
    if (!o.flash) rmSync(flash, { recursive: true, force: true });
  }
}
