/**
 * Text from outside — a user name an SSH client or a NAS sent, a file from TFTP, a server's error
 * message — made safe to print on an operator's terminal. Raw control characters in it would be obeyed
 * by the terminal, not shown: `ESC [2J` clears the screen, `CR` overwrites the line with something else,
 * OSC sequences retitle the window or write the clipboard, and the Unicode bidirectional overrides make
 * a line read differently from what it holds (CVE-2021-42574, "Trojan Source"). Each becomes a visible
 * escape (`\x1b`, `\u202e`) instead, so the operator sees exactly what was sent.
 *
 * Escaped: C0 controls (U+0000–U+001F), DEL (U+007F), C1 controls (U+0080–U+009F: U+009B is CSI to
 * terminals that take 8-bit controls), and the invisible formatting characters that reorder or hide
 * text: U+061C, U+200B–U+200F, U+2028–U+202E, U+2060–U+2069, U+FEFF. Backslashes are left as they
 * are (`DOMAIN\user` is a common login name), so `\x1b` typed as four characters looks the same as an
 * escaped ESC: harmless on a terminal, and the audit log's JSON lines keep the difference.
 */

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
/** The same, but a line break and a tab stay: for whole blocks of output. */
const UNSAFE_IN_BLOCK = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function escape(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** One value (a user name, a reason, a message) with every control character escaped, line breaks included. */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** Command output with every control character escaped but line breaks and tabs. */
export function terminalBlock(text: string): string {
  return text.replace(UNSAFE_IN_BLOCK, escape);
}

/** Whether a line typed as a command holds a control character no keyboard line can (C0 but TAB, DEL); its index or -1. */
export function controlCharacterAt(line: string): number {
  return line.search(/[\u0000-\u0008\u000a-\u001f\u007f]/);
}
