/**
 * The appliance's worker-thread tasks (util/worker-pool.ts) run in place on the event loop, for unit
 * tests of the code around them.
 */
import { skewOf, type SkewSearch } from '../../src/twofa/verifier.ts';
import { type PasswordCheck, verifyPassword } from '../../src/util/crypt.ts';

export const checkOnEventLoop: PasswordCheck = async (password, hash) => verifyPassword(password, hash);
export const searchOnEventLoop: SkewSearch = async (key, code, tm, maxSkew) => skewOf(key, code, tm, maxSkew);
