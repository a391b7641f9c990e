/**
 * Secret keys kept as files in the flash directory (`.2fa.key`, `.config.key`): 32 random bytes,
 * base64, owner-only. Made with O_EXCL so two processes starting at once cannot both write one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Reads the 256-bit key in `dir/name`, creating it on first use. */
export function loadKeyFile(dir: string, name: string): Buffer {
  const path = join(dir, name);
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32).toString('base64') + '\n');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} is not a 256-bit key`);
  return key;
}
