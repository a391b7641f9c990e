/**
 * render → boot → render is identical for every fixtures/configs/*.cfg (SPEC §3), and booting them
 * reports no error. This is what `write memory` + reboot relies on: the second boot is on the same
 * flash, so secrets sealed with its key (`8 …`) open again.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { newApp, tempFlash } from '../helpers/app.ts';

const DIR = new URL('../../fixtures/configs/', import.meta.url).pathname;

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.cfg')).sort()) {
  test(`round trip ${file}`, async () => {
    // Files the config reads from flash (a CA certificate) sit in a folder named after it.
    const companions = join(DIR, file.replace(/\.cfg$/, ''));
    const files = existsSync(companions) ? Object.fromEntries(readdirSync(companions).map((n) => [n, readFileSync(join(companions, n), 'utf8')])) : {};
    const flash = tempFlash({ ...files, 'default.cfg': readFileSync(DIR + file, 'utf8') });
    // Each appliance is closed even when an assertion fails: an open one (its listeners, its timers)
    // would keep the test process running.
    const boot = async (check: (env: Awaited<ReturnType<typeof newApp>>) => void) => {
      const env = await newApp({ dir: flash.dir });
      try {
        check(env);
      } finally {
        await env.close();
      }
    };
    try {
      let rendered = '';
      await boot((first) => {
        rendered = first.app.renderRunning();
        assert.deepEqual(first.report.errors, []);
      });
      writeFileSync(join(flash.dir, 'default.cfg'), rendered);
      await boot((second) => {
        assert.deepEqual(second.report.errors, []);
        assert.equal(second.app.renderRunning(), rendered);
      });
    } finally {
      flash.cleanup();
    }
  });
}
