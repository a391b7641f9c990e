/**
 * Test helpers: an appliance on a fresh temporary flash with a fixed clock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../src/app.ts';
import type { OpenVpnHostOptions } from '../../src/openvpn/index.ts';
import { ApplianceClock } from '../../src/util/clock.ts';
import { memoryLog } from '../../src/util/log.ts';

/** 2024-03-03T12:00:00Z, the default time of test appliances. */
export const T0 = Date.UTC(2024, 2, 3, 12, 0, 0);

/** A stopped-time clock at `ms` that `clock set` can still move. */
export function fixedClock(ms = T0): ApplianceClock {
  return new ApplianceClock(0, () => ms);
}

/** A temporary flash directory, removed by `cleanup`. */
export function tempFlash(files: Record<string, string> = {}): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'awplus-flash-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A started appliance on a temporary flash. */
export async function newApp(options: { files?: Record<string, string>; clock?: ApplianceClock; dir?: string; openvpn?: OpenVpnHostOptions } = {}) {
  const flash = options.dir ? { dir: options.dir, cleanup: () => {} } : tempFlash(options.files);
  const log = memoryLog();
  const app = await App.start({ flash: flash.dir, log, clock: options.clock ?? fixedClock(), ...(options.openvpn ? { openvpn: options.openvpn } : {}) });
  const report = app.bootReport;
  return {
    app,
    log,
    report,
    dir: flash.dir,
    async close() {
      await app.stop();
      flash.cleanup();
    },
  };
}

/** A privilege-15 session at `#`, as scripts and `connect` get. */
export function adminSession(app: App, location = 'test') {
  return app.openSession({ source: 'test', user: 'manager', userPrivilege: 15, enabled: true, location });
}

/** Runs lines in a session; returns their output joined. */
export async function runLines(session: { execute(line: string): Promise<{ output: string }> }, ...lines: string[]): Promise<string> {
  let out = '';
  for (const line of lines) out += (await session.execute(line)).output;
  return out;
}
