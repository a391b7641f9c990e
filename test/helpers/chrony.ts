/**
 * chronyd (Debian `chrony`) as a real NTP server for the tests: `chronyd -x -d -f FILE` in the
 * foreground, -x so it never touches the host clock, serving on a free port on 127.0.0.1 and ::1 with
 * the host clock as a `local stratum 8` reference (or, with `local: false`, unsynchronised).
 */
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, freeUdpPort } from './daemon.ts';
import { peer } from './peers.ts';

export const CHRONYD = '/usr/sbin/chronyd';

export interface Chrony {
  readonly port: number;
  readonly daemon: Daemon;
  stop(): Promise<void>;
}

/** One raw mode-3 request; true when any 48-octet reply comes back within 200 ms. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 200);
    s.on('error', () => done(false));
    s.on('message', (m) => done(m.length >= 48));
    const req = Buffer.alloc(48);
    req[0] = 0x23;
    s.send(req, port, '127.0.0.1');
  });
}

export async function startChrony(options: { local?: boolean } = {}): Promise<Chrony> {
  const dir = Daemon.tempDir(peer('chronyd'), 'chrony', 'awplus-chrony-');
  const port = await freeUdpPort();
  const conf = join(dir, 'chrony.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bindaddress 127.0.0.1',
      'bindaddress ::1',
      ...(options.local === false ? [] : ['local stratum 8']),
      'allow 127.0.0.1',
      'allow ::1',
      `driftfile ${join(dir, 'drift')}`,
      `pidfile ${join(dir, 'chronyd.pid')}`,
      'cmdport 0',
      '',
    ].join('\n'),
  );
  // -u root: stay root so the temporary directory (0700, root's) stays writable for the drift file.
  const daemon = Daemon.spawn(CHRONYD, ['-x', '-d', '-u', 'root', '-f', conf], dir);
  await daemon.waitUntil(`chronyd on port ${port}`, () => answers(port), 10000);
  return { port, daemon, stop: () => daemon.stop() };
}
