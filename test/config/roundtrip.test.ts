/**
 * render → boot → render is identical for every fixtures/configs/*.cfg (SPEC §3), and booting them
 * reports no error. This is what `write memory` + reboot relies on.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { newApp } from '../helpers/app.ts';

const DIR = new URL('../../fixtures/configs/', import.meta.url).pathname;

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.cfg')).sort()) {
  test(`round trip ${file}`, async () => {
    const first = await newApp({ files: { 'default.cfg': readFileSync(DIR + file, 'utf8') } });
    const rendered = first.app.renderRunning();
    assert.deepEqual(first.report.errors, []);
    await first.close();
    const second = await newApp({ files: { 'default.cfg': rendered } });
    assert.deepEqual(second.report.errors, []);
    assert.equal(second.app.renderRunning(), rendered);
    await second.close();
  });
}
