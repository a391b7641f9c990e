/**
 * A calibration point for the 2FA bench (radius-totp.ts), not a server to deploy: our own packet and
 * OTP functions (radius/packet.ts, radius/crypto.ts, twofa/otp.ts) and nothing else — no
 * configuration, duplicate cache, audit log or user store — answering `2fa only` Access-Requests for
 * the users of a JSON file ([[name, base32 secret], …]), the TOTP window −1…+1 lowest step first and
 * single use kept in memory. With a journal file, each Accept's used step is appended to it and
 * fdatasync'ed before the reply leaves, grouped as the appliance's store groups its writes. Beside FreeRADIUS +
 * rlm_totp under the same radclient load it shows what the load generator and one synced write per
 * Accept allow on this machine, whatever the appliance around those functions does.
 *
 *   node --import tsx bench/bare-responder.ts PORT SECRET USERS.json [JOURNAL]   (prints `ready`)
 */
import { createSocket } from 'node:dgram';
import { open, readFile } from 'node:fs/promises';
import { checkMessageAuthenticator, encodeResponse, unhidePassword } from '../src/radius/crypto.ts';
import { attr, Attr, Code, parsePacket } from '../src/radius/packet.ts';
import { base32Decode, hotpValue, timeStep } from '../src/twofa/otp.ts';
import { GroupCommit } from '../src/util/group-commit.ts';

const [port, secretText, usersFile, journalFile] = process.argv.slice(2);
if (!port || !secretText || !usersFile) throw new Error('usage: bare-responder.ts PORT SECRET USERS.json [JOURNAL]');
const secret = Buffer.from(secretText);
const keys = new Map((JSON.parse(await readFile(usersFile, 'utf8')) as [string, string][]).map(([name, s]) => [name, base32Decode(s)!]));
const lastStep = new Map<string, number>();
const journal = journalFile === undefined ? undefined : await open(journalFile, 'a');

/** Grouped as the appliance's store groups its writes (util/group-commit.ts). */
const commits = journal && new GroupCommit<string>(async (lines) => {
  await journal.write(lines.join(''));
  await journal.datasync();
});

/** The matched step of a good, unused code, or undefined. */
function accepts(user: string, code: string): number | undefined {
  const key = keys.get(user);
  if (!key || !/^\d{6}$/.test(code)) return undefined;
  const tm = timeStep(Date.now());
  for (let step = tm - 1; step <= tm + 1; step++) {
    if (hotpValue(key, step) === Number(code)) return step > (lastStep.get(user) ?? -1) ? step : undefined;
  }
  return undefined;
}

const socket = createSocket('udp4');
socket.on('message', (datagram, from) => {
  const p = parsePacket(datagram);
  if (p.code !== Code.AccessRequest || checkMessageAuthenticator(p, secret) === false) return;
  const user = attr(p, Attr.UserName)?.toString('utf8') ?? '';
  const hidden = attr(p, Attr.UserPassword);
  const code = hidden && unhidePassword(hidden, secret, p.authenticator)?.toString('utf8');
  const step = code === undefined ? undefined : accepts(user, code);
  const send = (c: number) => socket.send(encodeResponse(c, p, [], secret), from.port, from.address);
  if (step === undefined) return send(Code.AccessReject);
  lastStep.set(user, step);
  if (!commits) return send(Code.AccessAccept);
  void commits.add([`${JSON.stringify({ user, step })}\n`]).then(() => send(Code.AccessAccept));
});
socket.bind(Number(port), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => void Promise.resolve(journal?.close()).finally(() => process.exit(0)));
