// One crypt(3) checker thread of crypt-workers.ts. Plain JavaScript: a worker does not inherit the
// TypeScript loader the main thread registered (bin/awplus.mjs), so it registers tsx itself before it
// loads crypt.ts. Messages: { id, password, hash } in, { id, ok } out.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { verifyPassword } = await import('./crypt.ts');

parentPort.on('message', ({ id, password, hash }) => parentPort.postMessage({ id, ok: verifyPassword(password, hash) }));
