/**
 * The login form's CSRF defence: a random per-browser nonce in a cookie, and in the form a token that
 * is an HMAC of that nonce and the time the form was made (OWASP Cross-Site Request Forgery Prevention
 * Cheat Sheet, "Signed Double-Submit Cookie", with the timestamp so an old form expires). A POST is
 * accepted only when the token matches the cookie it came with, so a page on another site, which can
 * neither read the cookie nor the form, cannot forge one.
 *
 * Hand-written over node:crypto rather than a library: the maintained ones are framework middleware
 * (@fastify/csrf-protection, csrf-csrf for Express), and the fastify stack pulls `cookie@2`, which
 * declares Node >= 22 (research wave2 §C); this project runs on Node 20 without a framework. The
 * pieces that matter are crypto.randomBytes, an HMAC and crypto.timingSafeEqual, all from node:crypto.
 *
 * Stateless on purpose: the server keeps no per-visitor state an anonymous flood could fill; the HMAC
 * key lives as long as the page object, so a restart only makes open forms ask for a reload.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../util/clock.ts';

/** Name of the nonce cookie and of the hidden form field. */
export const CSRF_COOKIE = '__Secure-2fa-registration';
export const CSRF_FIELD = 'csrf';

/** 32 random bytes, base64url without padding. */
const NONCE = /^[A-Za-z0-9_-]{43}$/;
/** Forms "from the future" by more than this (the appliance clock was set back) are refused. */
const FUTURE_SLACK_MS = 60_000;

export class CsrfTokens {
  private readonly key = randomBytes(32);

  constructor(
    private readonly clock: Clock,
    private readonly lifetimeMs: number,
  ) {}

  /** A fresh cookie value. */
  newNonce(): string {
    return randomBytes(32).toString('base64url');
  }

  /** Whether a cookie value has the shape this server gives out (anything else is replaced). */
  isNonce(value: string | undefined): value is string {
    return value !== undefined && NONCE.test(value);
  }

  /** The form token for `nonce`, valid from now for the lifetime. */
  issue(nonce: string): string {
    const issued = this.clock.now().toString(36);
    return `${issued}.${this.mac(nonce, issued)}`;
  }

  /** Whether `token` was issued by this server for `nonce` and has not expired. */
  verify(nonce: string | undefined, token: string | undefined): boolean {
    if (!this.isNonce(nonce) || token === undefined) return false;
    const dot = token.indexOf('.');
    if (dot <= 0) return false;
    const issued = token.slice(0, dot);
    const issuedMs = Number.parseInt(issued, 36);
    if (!/^[0-9a-z]+$/.test(issued) || !Number.isSafeInteger(issuedMs)) return false;
    const age = this.clock.now() - issuedMs;
    if (age > this.lifetimeMs || age < -FUTURE_SLACK_MS) return false;
    const expected = Buffer.from(this.mac(nonce, issued));
    const given = Buffer.from(token.slice(dot + 1));
    // timingSafeEqual needs equal lengths; the length of a MAC is no secret.
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(nonce: string, issued: string): string {
    return createHmac('sha256', this.key).update(`2fa-registration|${nonce}|${issued}`).digest('base64url');
  }
}
