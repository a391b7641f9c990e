/**
 * POST /2fa-registration: the login. Order matters: the rate limit before anything costly, the form
 * token before the backend sees a password, and the backend alone decides what the user gets.
 */
import { CSRF_COOKIE, CSRF_FIELD } from '../csrf.ts';
import { messagePage, PAGE_PATH } from '../html.ts';
import type { WebResponse } from '../http.ts';
import { FILL_BOTH, LOGIN_FAILED, loginForm, MAX_PASSWORD_BYTES, MAX_USER_BYTES, TRY_LATER } from '../pages/login-form.ts';
import { registeredPage } from '../pages/registered.ts';
import { clientKey } from '../rate-limit.ts';
import type { Route, RouteContext } from '../route.ts';
import type { RegistrationResult } from '../types.ts';

/** User names go to the audit log; a name longer than this is cut there (it is not a real name). */
const LOG_USER_CHARS = 64;

/**
 * OWASP Cross-Site Request Forgery Prevention Cheat Sheet, "Fetch Metadata headers" and "Verifying
 * Origin With Standard Headers": defence in depth next to the token. A browser that sends
 * Sec-Fetch-Site must say same-origin. Origin, when it names an origin, must be ours; `Origin: null`
 * is what our own form sends, because the page's `Referrer-Policy: no-referrer` makes a POST's
 * origin opaque (Fetch standard, "append a request Origin header"), so it proves nothing either way
 * and the token decides.
 */
function sameOrigin(ctx: RouteContext): boolean {
  const { origin, host } = ctx.req.headers;
  const site = ctx.req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  if (origin === undefined || origin === 'null') return true;
  return host !== undefined && origin.toLowerCase() === `https://${host.toLowerCase()}`;
}

async function login(ctx: RouteContext): Promise<WebResponse> {
  const { backend, log, csrf, limiter, counters } = ctx.deps;
  const client = ctx.client;

  const rate = limiter.take(clientKey(client));
  // The body is read even when refused: at most the size limit, and an unread body would have to be
  // cut off with the connection, which a browser may show as a network error instead of this page.
  const form = await ctx.readForm();
  if (!rate.ok) {
    counters.rateLimited++;
    // Once per burst: a flood must not push real events out of the audit trail.
    if (rate.first) log.info('web-rate-limited', { client });
    return {
      status: 429,
      body: messagePage('Too many attempts', 'There were too many login attempts from your network. Please wait a minute and try again.'),
      headers: { 'Retry-After': String(rate.retryAfterSeconds) },
    };
  }

  if (!sameOrigin(ctx) || !csrf.verify(ctx.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD) ?? undefined)) {
    counters.csrfRejected++;
    log.info('web-csrf-rejected', { client });
    return { status: 403, body: messagePage('Please log in again', 'This form has expired or did not come from this page. Go back to the login page and log in again.') };
  }

  // Phones like to add a space after a word; a user name never starts or ends with one.
  const user = (form.get('username') ?? '').trim();
  const password = form.get('password') ?? '';
  if (user === '' || password === '') return loginForm(ctx, { user, error: FILL_BOTH });

  const logUser = user.slice(0, LOG_USER_CHARS);
  let result: RegistrationResult;
  if (Buffer.byteLength(user) > MAX_USER_BYTES || Buffer.byteLength(password) > MAX_PASSWORD_BYTES || /[\x00-\x1f\x7f]/.test(user)) {
    // No such login can succeed anywhere (RADIUS could not even carry it): a failed login like any other.
    result = { ok: false, reason: 'bad-login' };
  } else {
    try {
      result = await backend.register(user, password, client);
    } catch (e) {
      log.error('web-registration-error', { user: logUser, client, message: (e as Error).message });
      result = { ok: false, reason: 'unavailable' };
    }
  }

  if (result.ok) {
    counters.registrations++;
    // Audit: who and from where; never the secret, the codes or the password (SPEC §11).
    log.info('web-registration-ok', { user: logUser, client });
    return { status: 200, body: await registeredPage(user, result) };
  }
  counters.failures[result.reason]++;
  log.info('web-registration-failed', { user: logUser, client, reason: result.reason });
  switch (result.reason) {
    case 'bad-login':
    case 'locked-out':
      return loginForm(ctx, { user, error: LOGIN_FAILED });
    case 'already-registered':
      // Only reached after the first factor accepted (the backend's rule), so it tells nothing to a stranger.
      return {
        status: 409,
        body: messagePage(
          'Already registered',
          'Two-factor authentication is already set up for this user, so no new key was made. If you need a new one, for example for a new phone, ask your administrator to reset your registration.',
        ),
      };
    case 'first-factor-timeout':
    case 'unavailable':
      return { ...loginForm(ctx, { user, error: TRY_LATER }), status: 503 };
  }
}

export const registrationLogin: Route = { method: 'POST', path: PAGE_PATH, handle: login };
