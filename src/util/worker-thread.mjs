// One thread of worker-pool.ts. Plain JavaScript: a worker does not inherit the TypeScript loader the
// main thread registered (bin/awplus.mjs), so it registers tsx itself before it loads our modules.
// Messages: { id, module, name, args } in; { id, result } or { id, error } out. A task that throws
// answers with its message; the thread goes on.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const modules = new Map();

parentPort.on('message', async ({ id, module, name, args }) => {
  try {
    if (!modules.has(module)) modules.set(module, import(module));
    const fn = (await modules.get(module))[name];
    if (typeof fn !== 'function') throw new Error(`${module} exports no function ${name}`);
    parentPort.postMessage({ id, result: await fn(...args) });
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
