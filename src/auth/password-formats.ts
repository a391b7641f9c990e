/**
 * How an OpenVPN password carries the code (SPEC §6, real-peers.md §3.3):
 * - `SCRV1:base64(password):base64(code)` from `static-challenge "…" 1`;
 * - with `2fa-in-password`, `<password><code>`: an 8-digit scratch-code suffix if it is one of the
 *   user's codes, else a 6-digit code suffix (libpam forward_pass tries both);
 * - otherwise the password alone (the code comes in answer to a challenge).
 */

export interface SplitPassword {
  readonly password: Buffer;
  readonly code: string | undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes `SCRV1:…:…`; undefined when the value is not one. */
export function parseScrv1(value: Buffer): SplitPassword | undefined {
  const s = value.toString('latin1');
  const m = /^SCRV1:([^:]*):([^:]*)$/.exec(s);
  if (!m || !BASE64.test(m[1]!) || !BASE64.test(m[2]!)) return undefined;
  return { password: Buffer.from(m[1]!, 'base64'), code: Buffer.from(m[2]!, 'base64').toString('utf8').trim() };
}

/** Splits `<password><code>`; `isScratch` says whether an 8-digit suffix is one of the user's scratch codes. */
export async function splitCodeFromPassword(value: Buffer, isScratch: (code: string) => Promise<boolean>): Promise<SplitPassword> {
  const s = value.toString('latin1');
  const eight = /^(.*?)([1-9]\d{7})$/s.exec(s);
  if (eight && (await isScratch(eight[2]!))) return { password: Buffer.from(eight[1]!, 'latin1'), code: eight[2] };
  const six = /^(.*?)(\d{6})$/s.exec(s);
  if (six) return { password: Buffer.from(six[1]!, 'latin1'), code: six[2] };
  return { password: value, code: undefined };
}
