/**
 * HTML for the page: escaping and the one layout every page shares. Every value that did not come
 * from this file goes through `escapeHtml` (OWASP Cross Site Scripting Prevention Cheat Sheet, rules
 * for HTML body and quoted attribute contexts).
 */

export const PAGE_PATH = '/2fa-registration';
export const STYLESHEET_PATH = '/2fa-registration/style.css';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in element content and in double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A whole document: `title` and `main` are trusted markup made by the routes from escaped parts. */
export function page(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
${main}
</main>
</body>
</html>
`;
}

/** A short page with a message and a way back to the form (errors that are not login failures). */
export function messagePage(heading: string, message: string): string {
  return page(
    escapeHtml(heading),
    `<h1>${escapeHtml(heading)}</h1>
<p>${escapeHtml(message)}</p>
<p><a class="button" href="${PAGE_PATH}">Back to the login page</a></p>`,
  );
}
