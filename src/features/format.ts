/**
 * A value as one CLI word, as the running config shows it: in double quotes when it has spaces (a DN
 * such as `CN=VPN Users,…`, a key typed as `"two words"`) or is empty. A typed value never holds a
 * quotation mark at its start (the word splitter takes that as quoting) nor one with spaces (a quoted
 * word ends at the next one), so the quoted form always reads back as the same value.
 */
export function cliWord(text: string): string {
  return text === '' || /\s/.test(text) || text.startsWith('"') ? `"${text}"` : text;
}

/**
 * Text up to the end of the line (`2fa issuer Acme VPN`) as the running config shows it: in double
 * quotes only when reading it back would change it (empty, or spaces at either end, which the
 * matcher trims; or the whole text in quotes, which it takes as quoting).
 */
export function cliLine(text: string): string {
  return text === '' || text !== text.trim() || /^"[^"]*"$/.test(text) ? `"${text}"` : text;
}

/** Layout shared by `show` commands: AW+-style `name : value` lines with the colons aligned. */
export function fields(rows: readonly (readonly [string, string])[], indent = ''): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)} : ${v}`);
}
