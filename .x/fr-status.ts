import { spawnSync } from 'node:child_process';
import { startFreeradius } from '../test/helpers/freeradius.ts';
const fr = await startFreeradius(18712, 18713);
try {
  for (const port of [18712, 18713]) {
    const r = spawnSync('radclient', ['-x', '-t', '2', '-r', '1', `127.0.0.1:${port}`, 'status', 'upstreamsecret'], { input: 'Message-Authenticator = 0x00\nProxy-State = 0x01\n', encoding: 'utf8' });
    console.log(port, r.stdout, r.stderr);
    const r2 = spawnSync('radclient', ['-x', '-t', '2', '-r', '1', `127.0.0.1:${port}`, 'status', 'upstreamsecret'], { input: 'Proxy-State = 0x02\n', encoding: 'utf8' });
    console.log('noMA', port, r2.stdout, r2.stderr);
  }
} finally { await fr.stop(); }
