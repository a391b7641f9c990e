/** crypt(3) checks on the event loop, for unit tests of the code around them (the appliance uses util/crypt-workers.ts). */
import { verifyPassword } from '../../src/util/crypt.ts';
import type { PasswordCheck } from '../../src/util/crypt-workers.ts';

export const checkOnEventLoop: PasswordCheck = async (password, hash) => verifyPassword(password, hash);
