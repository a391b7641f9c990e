/**
 * The flash under the daemon's feet (SPEC §10, §18): full, or read-only, while logins run, on a small
 * tmpfs of its own. Needs root (mount). What must hold: no Accept whose single-use mark is not on disk
 * (checked the hard way: kill -9, space back, restart, every accepted code replayed), the service
 * recovers when space returns, and what an operator sees is a clear `% ` message.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peer } from '../test/helpers/peers.ts';
import { freeUdpPort } from '../test/helpers/ports.ts';
import { RadiusProbe } from '../test/helpers/radius-probe.ts';
import { FuzzDaemon } from './daemon.ts';
import { checkStore, createUsers, faultConfig, NAS_KEY, newUsers, replay, runLoad, type LoginUser } from './logins.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tmpfs of `size` on a new directory, owner-only. */
export class SmallFlash {
  readonly dir: string;
  private readonly root: string;

  constructor(size: string) {
    this.root = mkdtempSync(join(tmpdir(), 'awplus-tmpfs-'));
    this.dir = join(this.root, 'flash');
    mkdirSync(this.dir);
    execFileSync(peer('mount'), ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', this.dir]);
  }

  /** Fills it to the last byte with `filler`. */
  fill(): void {
    for (const chunk of [1 << 20, 65536, 4096, 512, 1]) {
      try {
        for (;;) appendFileSync(join(this.dir, 'filler'), Buffer.alloc(chunk, 0x78));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
  }

  /** Gives the space back. */
  unfill(): void {
    rmSync(join(this.dir, 'filler'), { force: true });
  }

  readOnly(ro: boolean): void {
    execFileSync(peer('mount'), ['-o', `remount,${ro ? 'ro' : 'rw'}`, this.dir]);
  }

  free(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  /** Bytes under the flash, sub-directories (the store) included. */
  used(): number {
    const walk = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? walk(join(d, e.name)) : statSync(join(d, e.name)).size), 0);
    return walk(this.dir);
  }

  dispose(): void {
    try {
      execFileSync(peer('umount'), [this.dir]);
      rmSync(this.root, { recursive: true, force: true });
    } catch (e) {
      process.stderr.write(`cleanup of ${this.dir} failed: ${(e as Error).message}\n`);
    }
  }
}

export interface TroubleFigures {
  /** Codes accepted before, during and after the trouble. */
  readonly acceptedBefore: number;
  readonly acceptedDuring: number;
  readonly acceptedAfter: number;
  /** After kill -9, space back and a restart: every accepted code replayed. */
  readonly replayed: number;
  readonly acceptedAgain: number;
  readonly usersLost: readonly string[];
  readonly countersBehind: readonly string[];
  readonly errors: readonly string[];
}

/**
 * Logins run; `trouble` starts (the flash filled, or made read-only) for `troubleMs`, `end` takes it
 * away and logins go on for `afterMs` without a restart; then kill -9, restart, replay everything.
 */
export async function loginsThroughTrouble(flash: SmallFlash, trouble: { start: () => void; end: () => void }, o: { users?: number; troubleMs?: number; afterMs?: number } = {}): Promise<TroubleFigures> {
  const port = await freeUdpPort();
  writeFileSync(join(flash.dir, 'default.cfg'), faultConfig(port));
  const users = newUsers(o.users ?? 8);
  const probe = await RadiusProbe.open(port, NAS_KEY);
  let { daemon } = await FuzzDaemon.start(flash.dir);
  try {
    await createUsers(daemon, users);
    const d = daemon;
    const load = runLoad(probe, users, () => d.alive);
    await sleep(500);
    const before = load.accepted();
    trouble.start();
    await sleep(o.troubleMs ?? 1500);
    const during = load.accepted() - before;
    trouble.end();
    await sleep(o.afterMs ?? 2500);
    const after = load.accepted() - before - during;
    await daemon.kill9();
    await load.stop();
    const errors = [...daemon.errors];
    ({ daemon } = await FuzzDaemon.start(flash.dir));
    const all = users.flatMap((u: LoginUser) => u.accepted.map((a) => ({ user: u, ...a })));
    const r = await replay(probe, all);
    const store = await checkStore(daemon, users);
    errors.push(...daemon.errors);
    return { acceptedBefore: before, acceptedDuring: during, acceptedAfter: after, replayed: r.replayed, acceptedAgain: r.acceptedAgain.length, usersLost: store.lost, countersBehind: store.behind, errors };
  } finally {
    probe.close();
    await daemon.stop();
  }
}
