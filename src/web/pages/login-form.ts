/**
 * The manual's form: Username, Password and a Login button (AW+ 2FA manual, TOTP方式における自己登録用
 * Webページ, step 4). Shown first, and again after a failed login.
 */
import { CSRF_COOKIE, CSRF_FIELD } from '../csrf.ts';
import { escapeHtml, page, PAGE_PATH } from '../html.ts';
import { sessionCookie, type WebResponse } from '../http.ts';
import type { RouteContext } from '../route.ts';

/**
 * The one message for every failed login, whatever the reason (wrong password, unknown user, locked
 * out), so the page cannot be used to find out which user names exist or are locked (OWASP
 * Authentication Cheat Sheet, "Authentication and Error Messages"). The last sentence tells a locked
 * out user what may be happening without saying that it is.
 */
export const LOGIN_FAILED = 'Login failed. Check your username and password and try again. After several failed attempts, logins are blocked for a while.';
export const TRY_LATER = 'Your login could not be checked right now. Please try again in a few minutes.';
export const FILL_BOTH = 'Enter your username and password.';

/** Longest accepted user name and password, in UTF-8 bytes (RADIUS User-Name and User-Password limits, RFC 2865 §5.1, §5.2). */
export const MAX_USER_BYTES = 253;
export const MAX_PASSWORD_BYTES = 128;

/**
 * The form with a fresh token. The browser's nonce cookie is kept when it has one (several tabs stay
 * valid) and set otherwise.
 */
export function loginForm(ctx: RouteContext, options: { status?: number; user?: string; error?: string } = {}): WebResponse {
  const { csrf } = ctx.deps;
  const existing = ctx.cookies.get(CSRF_COOKIE);
  const nonce = csrf.isNonce(existing) ? existing : csrf.newNonce();
  const error = options.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(options.error)}</p>\n`;
  const body = page(
    'Two-factor registration',
    `<h1>Two-factor registration</h1>
<p>Log in with your username and password to set up two-factor authentication with an authenticator app on your phone.</p>
${error}<form method="post" action="${PAGE_PATH}">
<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(csrf.issue(nonce))}">
<label for="username">Username</label>
<input id="username" name="username" type="text" value="${escapeHtml(options.user ?? '')}" required maxlength="${MAX_USER_BYTES}" autocomplete="username" autocapitalize="none" autocorrect="off" spellcheck="false">
<label for="password">Password</label>
<input id="password" name="password" type="password" required maxlength="${MAX_PASSWORD_BYTES}" autocomplete="current-password">
<button type="submit">Login</button>
</form>`,
  );
  return {
    status: options.status ?? 200,
    body,
    headers: nonce === existing ? {} : { 'Set-Cookie': sessionCookie(CSRF_COOKIE, nonce, PAGE_PATH) },
  };
}
