/**
 * Whole RADIUS exchanges from fixtures/radius/*.json replayed through RadiusServer.handle() of a real
 * appliance on a stopped clock: the decision logic end to end, with no sockets and no radclient
 * (fixtures/radius/README.md describes the format).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { encodeRequest, hidePassword } from '../../src/radius/crypto.ts';
import { Attr, attr, Code, encodePacket, parsePacket, type Attribute } from '../../src/radius/packet.ts';
import { base32Decode, hotp, timeStep } from '../../src/twofa/otp.ts';
import { adminSession, newApp, runLines } from '../helpers/app.ts';

interface Exchange {
  from?: string;
  user?: string;
  password?: string;
  scrv1?: [string, string];
  state?: 'previous';
  advance?: number;
  messageAuthenticator?: 'none' | 'wrong';
  code?: 'accounting';
  retransmit?: boolean;
  expect: 'Access-Accept' | 'Access-Reject' | 'Access-Challenge' | 'no reply';
  reason?: string;
  sameReplyAsPrevious?: boolean;
}

interface Fixture {
  title: string;
  config: string[];
  exec?: string[];
  clients: Record<string, { address: string; port: number; secret: string }>;
  exchanges: Exchange[];
}

const DIR = new URL('../../fixtures/radius/', import.meta.url);
const CODES: Record<number, Exchange['expect']> = { [Code.AccessAccept]: 'Access-Accept', [Code.AccessReject]: 'Access-Reject', [Code.AccessChallenge]: 'Access-Challenge' };

for (const name of readdirSync(DIR).filter((n) => n.endsWith('.json')).sort()) {
  const fx = JSON.parse(readFileSync(new URL(name, DIR), 'utf8')) as Fixture;
  test(`${name}: ${fx.title}`, async () => {
    const env = await newApp();
    try {
      const { app, log } = env;
      const setup = await runLines(adminSession(app), 'conf t', ...fx.config, 'end', ...(fx.exec ?? []));
      assert.ok(!/^% /m.test(setup), setup);
      /** Expands {totp±N}, {hotp:N} and {scratch:N} for `user` at the appliance's current time. */
      const expand = async (text: string, user: string) => {
        const u = (await app.twofa.get(user))!;
        return text.replace(/\{(totp([+-]\d+)?|hotp:(\d+)|scratch:(\d+))\}/g, (_, _all, offset, counter, scratch) => {
          if (scratch !== undefined) return u.scratch[Number(scratch)]!;
          const key = base32Decode(u.secret)!;
          return hotp(key, counter !== undefined ? Number(counter) : timeStep(app.clock.now()) + Number(offset ?? 0));
        });
      };
      let previous: { datagram: Buffer; from: { address: string; port: number }; reply: Buffer | undefined } | undefined;
      let id = 0;
      for (const [i, x] of fx.exchanges.entries()) {
        const where = `${name} exchange ${i + 1}`;
        if (x.advance) app.clock.set(app.clock.now() + x.advance);
        const eventsBefore = log.events.length;
        const dropsBefore = new Map(app.radius.server.stats.drops);
        let datagram: Buffer;
        let from: { address: string; port: number };
        if (x.retransmit) {
          ({ datagram, from } = previous!);
        } else {
          const client = fx.clients[x.from ?? Object.keys(fx.clients)[0]!]!;
          from = { address: client.address, port: client.port };
          const secret = Buffer.from(client.secret);
          const user = x.user ?? '';
          const password = x.scrv1
            ? `SCRV1:${Buffer.from(x.scrv1[0]).toString('base64')}:${Buffer.from(await expand(x.scrv1[1], user)).toString('base64')}`
            : await expand(x.password ?? '', user);
          const authenticator = randomBytes(16);
          const attrs: Attribute[] = [
            { type: Attr.UserName, value: Buffer.from(user) },
            { type: Attr.UserPassword, value: hidePassword(Buffer.from(password), secret, authenticator) },
          ];
          const state = x.state === 'previous' && previous?.reply ? attr(parsePacket(previous.reply), Attr.State) : undefined;
          if (state) attrs.push({ type: Attr.State, value: state });
          const code = x.code === 'accounting' ? Code.AccountingRequest : Code.AccessRequest;
          if (x.messageAuthenticator === 'none' || code !== Code.AccessRequest) datagram = encodePacket(code, ++id & 0xff, authenticator, attrs);
          else datagram = encodeRequest(++id & 0xff, authenticator, attrs, x.messageAuthenticator === 'wrong' ? Buffer.from('not the secret') : secret);
        }
        const reply = await app.radius.server.handle(datagram, from);
        const got = reply ? CODES[parsePacket(reply).code] : 'no reply';
        assert.equal(got, x.expect, where);
        if (x.reason && got === 'no reply') {
          // Drops are counted per reason, not logged one by one (radius/stats.ts DropSummary).
          const counted = [...app.radius.server.stats.drops].filter(([r, n]) => n > (dropsBefore.get(r) ?? 0)).map(([r]) => r);
          assert.deepEqual(counted, [x.reason], where);
        } else if (x.reason) {
          const events = log.events.slice(eventsBefore).filter((e) => e.event === 'radius-auth');
          assert.equal(events.at(-1)?.fields['reason'], x.reason, where);
        }
        if (x.sameReplyAsPrevious) assert.deepEqual(reply, previous?.reply, where);
        previous = { datagram, from, reply };
      }
    } finally {
      await env.close();
    }
  });
}
