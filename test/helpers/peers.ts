/**
 * Real peers are Debian programs: a test that needs one fails at once, naming the package to install,
 * instead of an ENOENT later (or a hang).
 */
import { execFileSync } from 'node:child_process';

const found = new Map<string, boolean>();

/** Throws unless `binary` is on PATH (or an absolute path that exists). */
export function requireBinary(binary: string, debianPackage: string): void {
  if (!found.has(binary)) {
    let ok = true;
    try {
      execFileSync('sh', ['-c', `command -v "$0"`, binary], { stdio: 'ignore' });
    } catch {
      ok = false;
    }
    found.set(binary, ok);
  }
  if (!found.get(binary)) throw new Error(`${binary} is not installed: apt-get install ${debianPackage}`);
}
