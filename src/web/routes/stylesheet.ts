/**
 * GET /2fa-registration/style.css: the only style of the page, served from the page's own origin so
 * the Content-Security-Policy can say `style-src 'self'` and nothing inline.
 *
 * Made for the phone that runs the authenticator app: system fonts (nothing to download), 17 px text,
 * controls at least 48 px high (WCAG 2.2 SC 2.5.5 asks 44 px), nothing wider than a 320 px screen, and
 * the QR code dark on white with a fixed size in either colour scheme.
 */
import { STYLESHEET_PATH } from '../html.ts';
import type { Route } from '../route.ts';

export const STYLESHEET = `:root {
  color-scheme: light dark;
  --fg: #1a1a1a; --bg: #ffffff; --muted: #555555; --border: #767676;
  --accent: #0b57d0; --accent-fg: #ffffff; --error-bg: #fde7e9; --error-fg: #8a1020;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e8e8e8; --bg: #121212; --muted: #b0b0b0; --border: #8a8a8a;
    --accent: #8ab4f8; --accent-fg: #0b1a33; --error-bg: #3b1219; --error-fg: #ffb4bd;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 34rem; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 8px 0 16px; }
h2 { font-size: 1.2rem; line-height: 1.3; margin: 28px 0 8px; }
p { margin: 0 0 16px; overflow-wrap: anywhere; }
label { display: block; font-weight: 600; margin: 16px 0 4px; }
input[type="text"], input[type="password"] {
  display: block; width: 100%; min-height: 48px; padding: 10px 12px;
  font: inherit; color: inherit; background: var(--bg);
  border: 1px solid var(--border); border-radius: 6px;
}
button, .button {
  display: block; width: 100%; min-height: 48px; margin: 24px 0 16px; padding: 12px 16px;
  font: inherit; font-weight: 600; text-align: center; text-decoration: none;
  color: var(--accent-fg); background: var(--accent); border: 0; border-radius: 6px; cursor: pointer;
}
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.error { padding: 12px; border-radius: 6px; background: var(--error-bg); color: var(--error-fg); }
.qr { margin: 0 0 16px; }
.qr svg { display: block; width: 288px; height: 288px; margin: 0 auto; background: #ffffff; }
code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; }
.secret code { font-size: 1.2rem; word-spacing: 0.25em; }
.important { font-weight: 600; }
.codes {
  list-style: none; margin: 0 0 16px; padding: 0;
  display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: 8px;
}
.codes code {
  display: block; padding: 8px; text-align: center; font-size: 1.15rem;
  border: 1px dashed var(--border); border-radius: 6px;
}
.note { color: var(--muted); font-size: 0.95rem; }
`;

export const stylesheet: Route = {
  method: 'GET',
  path: STYLESHEET_PATH,
  handle: () => ({ status: 200, body: STYLESHEET, contentType: 'text/css; charset=utf-8' }),
};
