/**
 * Login load for the fault runs: HOTP users logging in through the daemon's RADIUS server (`nas … 2fa
 * only`: the password is the code), each with one request in flight, every accepted code remembered so
 * it can be replayed after a crash (SPEC §10: a kill -9 never lets an accepted code be accepted again).
 */
import { randomBytes } from 'node:crypto';
import { base32Decode, hotp } from '../src/twofa/otp.ts';
import { RadiusProbe } from '../test/helpers/radius-probe.ts';
import type { FuzzDaemon } from './daemon.ts';

export const NAS_KEY = 'fault-key';
/** HOTP window: codes ahead of the counter by this much are still accepted (a lost answer skips one). */
export const WINDOW = 5;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface LoginUser {
  readonly name: string;
  readonly secret: string;
  readonly key: Buffer;
  /** The next counter this client will try. */
  next: number;
  /** Every code the daemon accepted, with its counter. */
  readonly accepted: { counter: number; code: string }[];
}

/** The startup config for the fault runs: the RADIUS server on `port`, HOTP with a window, a short lockout. */
export function faultConfig(port: number): string {
  // Lockout (ours, SPEC §5): replays are failures; 100 in 1 s locks a user for 1 s, then the load goes on.
  return ['service 2fa', `2fa hotp-window-size ${WINDOW}`, '2fa lockout failures 100 period 1', 'radius-server local', ` nas 127.0.0.1 key ${NAS_KEY} 2fa only`, ` server auth-port ${port}`, ' server enable', ''].join('\n');
}

export function newUsers(count: number): LoginUser[] {
  return Array.from({ length: count }, (_, i) => {
    const secret = [...randomBytes(32)].map((b) => BASE32[b & 31]).join('');
    return { name: `load${i}`, secret, key: base32Decode(secret)!, next: 1, accepted: [] };
  });
}

/** Creates the users on the daemon (`2fa create user NAME secret S hotp`). */
export async function createUsers(daemon: FuzzDaemon, users: readonly LoginUser[]): Promise<void> {
  const out = await daemon.cli(...users.map((u) => `2fa create user ${u.name} secret ${u.secret} hotp`));
  if (/^% /m.test(out)) throw new Error(`cannot create the users:\n${out}`);
}

/** Runs logins for every user until `stop()`; resolves when every user's last request has settled. */
export function runLoad(probe: RadiusProbe, users: readonly LoginUser[], alive: () => boolean): { stop: () => Promise<void>; accepted: () => number } {
  let stopped = false;
  let accepted = 0;
  const loops = users.map(async (u) => {
    while (!stopped) {
      const c = u.next;
      const code = hotp(u.key, c);
      const r = await probe.request(u.name, code, 1000);
      if (r === 'accept') {
        u.accepted.push({ counter: c, code });
        u.next = c + 1;
        accepted++;
      } else if (r === 'reject') {
        // Spent by a request whose answer was lost to a crash, or refused while nothing could be
        // written (a full flash: the counter did not move): the next one, but never past the window
        // above the last accepted counter, where the appliance would never look (HOTP look-ahead).
        const last = u.accepted.at(-1)?.counter ?? 0;
        u.next = c + 1 > last + WINDOW ? last + 1 : c + 1;
      } else if (!alive()) return;
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
    accepted: () => accepted,
  };
}

export interface ReplayResult {
  readonly replayed: number;
  /** Replays the daemon accepted: a code accepted twice. */
  readonly acceptedAgain: { user: string; counter: number }[];
  /** Accepted, but the code is also that of a counter ahead in the window (6 digits collide): not a replay. */
  readonly coincidences: number;
  readonly unanswered: number;
}

/** Sends every code in `codes` again; none may be accepted. */
export async function replay(probe: RadiusProbe, codes: readonly { user: LoginUser; counter: number; code: string }[], inFlight = 128): Promise<ReplayResult> {
  const acceptedAgain: { user: string; counter: number }[] = [];
  let coincidences = 0;
  let unanswered = 0;
  let i = 0;
  const worker = async () => {
    while (i < codes.length) {
      const x = codes[i++]!;
      const r = await probe.request(x.user.name, x.code, 3000);
      if (r === 'none') unanswered++;
      if (r !== 'accept') continue;
      // HOTP codes are 6 digits: an old code may equal the code of a counter still ahead. Then the
      // daemon accepted that counter, rightly; the client moves past it.
      const ahead = Array.from({ length: WINDOW + 2 }, (_, k) => x.user.next - 1 + k).find((c) => c > x.counter && hotp(x.user.key, c) === x.code);
      if (ahead !== undefined) {
        coincidences++;
        x.user.next = Math.max(x.user.next, ahead + 1);
      } else acceptedAgain.push({ user: x.user.name, counter: x.counter });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, 200) }, worker));
  return { replayed: codes.length, acceptedAgain, coincidences, unanswered };
}

/**
 * What the daemon's store holds for the users (`show 2fa user`): a missing user, or a HOTP counter
 * not past the highest accepted code (the acceptance was not on disk), is a failure.
 */
export async function checkStore(daemon: FuzzDaemon, users: readonly LoginUser[]): Promise<{ lost: string[]; behind: string[] }> {
  const out = await daemon.cli(...users.map((u) => `show 2fa user ${u.name}`));
  const lost: string[] = [];
  const behind: string[] = [];
  const blocks = out.split(/^\S*#show 2fa user /m).slice(1);
  for (const u of users) {
    const block = blocks.find((b) => b.startsWith(`${u.name}\n`));
    const counter = block && /HOTP counter\s*:\s*(\d+)/.exec(block)?.[1];
    if (!block || counter === undefined) {
      lost.push(u.name);
      continue;
    }
    const highest = Math.max(0, ...u.accepted.map((a) => a.counter));
    if (Number(counter) <= highest) behind.push(`${u.name}: counter ${counter}, accepted ${highest}`);
  }
  return { lost, behind };
}
