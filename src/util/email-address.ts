/**
 * One e-mail address as an addr-spec: what `2fa user NAME email` accepts, and what an address from a
 * directory must look like before a code is mailed to it (a value like `a@x, b@y` would otherwise be
 * read by the mailer as two recipients).
 */

// A pragmatic addr-spec (RFC 5321 §4.1.2 mailbox without quoted local parts).
const MAILBOX = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254. */
export function isMailbox(text: string): boolean {
  return text.length <= 254 && MAILBOX.test(text);
}
