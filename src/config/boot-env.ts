/**
 * What a router keeps outside its configuration (awplus-spec.md §4.4): the boot environment
 * (`boot config-file`, in `.boot`) and the real-time clock's offset from the host clock (`.clock`).
 */
import type { Flash } from '../util/flash.ts';
import { flashName } from '../util/flash.ts';

const BOOT_FILE = '.boot';
const CLOCK_FILE = '.clock';
export const DEFAULT_BOOT_CONFIG = 'default.cfg';

/** Boot settings kept outside the configuration. */
export interface BootSettings {
  /** Flash file name of the startup config (`default.cfg`). */
  readonly configFile: string;
}

export class BootEnv {
  constructor(private readonly flash: Flash) {}

  private readJson<T>(name: string): T | undefined {
    try {
      return JSON.parse(this.flash.read(name)) as T;
    } catch {
      return undefined;
    }
  }

  boot(): BootSettings {
    const saved = this.readJson<BootSettings>(BOOT_FILE);
    return { configFile: saved && flashName(saved.configFile) ? saved.configFile : DEFAULT_BOOT_CONFIG };
  }

  setBoot(settings: BootSettings): void {
    this.flash.write(BOOT_FILE, JSON.stringify(settings) + '\n');
  }

  /** The saved clock offset (ms), 0 when none. */
  clockOffset(): number {
    return this.readJson<{ offsetMs: number }>(CLOCK_FILE)?.offsetMs ?? 0;
  }

  saveClockOffset(offsetMs: number): void {
    this.flash.write(CLOCK_FILE, JSON.stringify({ offsetMs }) + '\n');
  }
}
