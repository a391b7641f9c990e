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
    try {
      const first = await newApp({ dir: flash.dir });
      const rendered = first.app.renderRunning();
      assert.deepEqual(first.report.errors, []);
      await first.close();
      writeFileSync(join(flash.dir, 'default.cfg'), rendered);
      const second = await newApp({ dir: flash.dir });
      assert.deepEqual(second.report.errors, []);
      assert.equal(second.app.renderRunning(), rendered);
      await second.close();
    } finally {
      flash.cleanup();
    }
  });
}
