/**
 * One appliance per flash directory (SPEC §10): a lock file holding the owner's pid, created with
 * O_EXCL. A lock left by a dead process (kill -9) is taken over; a live owner is a clear error.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import type { Flash } from './flash.ts';

const LOCK = '.lock';

/** A held lock. */
export interface FlashLock {
  release(): void;
}

/** The flash directory is in use by another running appliance. */
export class FlashLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`flash directory ${dir} is in use by another awplus process (pid ${pid})`);
    this.name = 'FlashLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws FlashLockedError. */
export function acquireFlashLock(flash: Flash): FlashLock {
  const path = flash.path(LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) throw new FlashLockedError(flash.dir, pid);
      if (pid === process.pid) throw new FlashLockedError(flash.dir, pid);
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new FlashLockedError(flash.dir, -1);
}
