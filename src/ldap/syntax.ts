/**
 * What an administrator may type for a DN (`base-dn`, `bind-dn`, `require-group`) and an attribute
 * (`login-attribute`, `email-attribute`): checked when the command is entered, so a typo is a `% `
 * error at once rather than a server error at the first login. The server still has the last word.
 */

// RFC 4512 §1.4: descr = keystring (a letter, then letters, digits, hyphens); numericoid = 1.2.3.
const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/;

/** An attribute type by name or OID (RFC 4512 §1.4 descr / numericoid). Options (`;lang-en`) are not searched by. */
export function isAttributeType(text: string): boolean {
  return text.length <= 128 && ATTRIBUTE_TYPE.test(text);
}

// RFC 4514 §3: characters that must be escaped inside a value, and what may follow a backslash.
const SPECIAL = new Set(['"', '+', ',', ';', '<', '>', '\\', ' ', '#', '=']);
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * A distinguished name in the RFC 4514 §3 string form: RDNs separated by commas, attribute type and
 * value pairs (joined by `+` in a multi-valued RDN), values with `\`-escapes or as `#hex`. Spaces
 * around the separators are allowed, as RFC 2253 parsers (OpenLDAP, Active Directory) accept them
 * (RFC 4514 §4: implementations may recognise other string forms). The empty DN (the root) is not a
 * DN anyone configures here and is refused.
 */
export function isDn(text: string): boolean {
  // Control characters cannot be typed on the CLI, and a NUL would end the DN early on some servers.
  if (text.trim() === '' || text.length > 1024 || /\p{Cc}/u.test(text)) return false;
  const avas: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) return false;
      if (SPECIAL.has(next)) {
        current += c + next;
        i++;
      } else if (HEX.test(text.slice(i + 1, i + 3))) {
        current += text.slice(i, i + 3);
        i += 2;
      } else return false;
    } else if (c === ',' || c === '+') {
      avas.push(current);
      current = '';
    } else current += c;
  }
  avas.push(current);
  return avas.every(isAttributeTypeAndValue);
}

/** `type=value`, `value` with escapes already checked by the caller's scan. */
function isAttributeTypeAndValue(ava: string): boolean {
  const eq = unescapedIndex(ava, '=');
  if (eq < 0) return false;
  const type = ava.slice(0, eq).trim();
  const value = ava.slice(eq + 1).trim();
  if (!isAttributeType(type)) return false;
  // RFC 4514 §2.4: a value starting with '#' is the BER encoding in hex.
  if (value.startsWith('#')) return /^#(?:[0-9A-Fa-f]{2})+$/.test(value);
  // Unescaped: '"', ';', '<', '>' and a second '=' (RFC 4514 §3 LUTF1/SUTF1 exclude the first four;
  // '=' is allowed by the grammar but is almost always a missing comma, as in "cn=a ou=b").
  for (const c of ['"', ';', '<', '>', '=']) if (unescapedIndex(value, c) >= 0) return false;
  return true;
}

function unescapedIndex(text: string, char: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === char) return i;
  }
  return -1;
}
