/** GET /2fa-registration: the login form (AW+ 2FA manual, step 4). */
import { PAGE_PATH } from '../html.ts';
import { loginForm } from '../pages/login-form.ts';
import type { Route } from '../route.ts';

export const registrationForm: Route = {
  method: 'GET',
  path: PAGE_PATH,
  handle: (ctx) => loginForm(ctx),
};
