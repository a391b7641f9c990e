/**
 * Plain HTTP plumbing for the page: the headers every response carries, cookies, and reading a small
 * urlencoded form with a size limit. No framework: the page has three routes and one form.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/** What a route answers; the server adds the security headers and writes it. */
export interface WebResponse {
  readonly status: number;
  readonly body: string;
  /** `text/html; charset=utf-8` when omitted. */
  readonly contentType?: string;
  readonly headers?: OutgoingHttpHeaders;
  /** Close the connection after this response (the request body was not read to its end). */
  readonly close?: boolean;
}

/** An error that becomes a plain error page with this status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
    readonly close = false,
  ) {
    super(message);
  }
}

/**
 * Headers on every response (OWASP HTTP Headers Cheat Sheet, OWASP Content Security Policy Cheat
 * Sheet). The page needs no script at all and only its own stylesheet; the QR code is inline SVG
 * markup, which img-src does not govern, so nothing else is allowed.
 *
 * No Strict-Transport-Security: HSTS applies to every port of the host name (RFC 6797 §8.1, §14.2
 * about ports), so a header sent from this port would force HTTPS on the router's other web services
 * too. This listener speaks only TLS anyway.
 */
export const SECURITY_HEADERS: Readonly<OutgoingHttpHeaders> = {
  // The result page holds a secret; nothing may keep a copy (OWASP Session Management Cheat Sheet, "Web Content Caching").
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  // Also makes a browser send `Origin: null` with the page's own form (see the login route).
  'Referrer-Policy': 'no-referrer',
  // frame-ancestors for browsers that predate CSP level 2 (OWASP Clickjacking Defense Cheat Sheet).
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** RFC 6265 §4.2.1: `name=value` pairs separated by `; `. The first of a repeated name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * A session cookie for the page only (RFC 6265 §4.1.2): `Secure` so it never travels in clear text,
 * `HttpOnly` so no script reads it, `SameSite=Strict` so other sites' requests do not carry it
 * (RFC 6265bis §8.8). `Path` keeps it from the router's other web services on the same host, which
 * would otherwise see it: cookies do not separate ports (RFC 6265 §8.5). The `__Secure-` name prefix
 * (RFC 6265bis §4.1.3.1) makes browsers refuse a copy set without `Secure`; `__Host-` would need `Path=/`.
 */
export function sessionCookie(name: string, value: string, path: string): string {
  return `${name}=${value}; Path=${path}; Secure; HttpOnly; SameSite=Strict`;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * Reads an urlencoded body of at most `limit` bytes (OWASP Denial of Service Cheat Sheet: bound every
 * input). Too large → 413 before or while reading; another media type → 415; bad UTF-8 → 400.
 */
export async function readForm(req: IncomingMessage, limit: number): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== FORM_TYPE) throw new HttpError(415, 'The form was sent in a format this page does not accept.');
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw new HttpError(413, 'The form was too large.', {}, true);
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(new HttpError(413, 'The form was too large.', {}, true));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve();
    };
    // The browser went away or broke the body off: nobody is left to read an answer.
    const onError = () => {
      cleanup();
      reject(new HttpError(400, 'The form did not arrive completely.'));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    // 'close' before 'end': the browser went away in the middle of the body.
    const onClose = () => onError();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, 'The form could not be read.');
  }
  return new URLSearchParams(text);
}

/** The path of a request target without its query (raw: `//x` stays `//x`, never a host). */
export function pathOf(url: string | undefined): string {
  const target = url ?? '';
  const q = target.search(/[?#]/);
  return q < 0 ? target : target.slice(0, q);
}
