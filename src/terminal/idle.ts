/**
 * The idle timeout of an interactive session (`exec-timeout`, IOS/AW+): `onIdle` fires once no input
 * came for `seconds()` (0 = never); `reset` on every keystroke. The timeout is read once a second, so
 * a change applies to a session that is already idle, not only from its next keystroke on.
 */
import { performance } from 'node:perf_hooks';

const CHECK_MS = 1000;

export function idleTimer(seconds: () => number, onIdle: () => void): { reset: () => void; stop: () => void } {
  let last = performance.now();
  const timer = setInterval(() => {
    const s = seconds();
    if (s > 0 && performance.now() - last >= s * 1000) {
      clearInterval(timer);
      onIdle();
    }
  }, CHECK_MS);
  timer.unref();
  return { reset: () => void (last = performance.now()), stop: () => clearInterval(timer) };
}
