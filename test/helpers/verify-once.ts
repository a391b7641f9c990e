/**
 * A child process for the crash tests: boots the appliance on a flash directory, verifies one code
 * through the 2FA facade, prints the result and then waits to be killed (kill -9 in the test).
 * Usage: node --import tsx verify-once.ts FLASH USER CODE
 */
import { App } from '../../src/app.ts';
import { memoryLog } from '../../src/util/log.ts';

const [flash, user, code] = process.argv.slice(2) as [string, string, string];
const app = await App.start({ flash, log: memoryLog() });
const result = await app.twofa.verify(user, code);
process.stdout.write(`${result.ok ? 'accepted' : 'rejected'} ${result.reason}\n`);
setInterval(() => {}, 1000);
