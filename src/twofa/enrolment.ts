/**
 * What a user needs to set up an authenticator app: the otpauth URI (as libpam's `getURL` builds it,
 * 2fa-engine.md §1.11) and its QR code for a terminal (AW+ `qr {ansi|utf8|link}`).
 */
import QRCode from 'qrcode';
import type { TwoFaSettings, TwoFaUser } from './types.ts';

/**
 * libpam `urlEncode`: percent-encodes `% & ? =`, bytes ≤ 0x20 and ≥ 0x7F (UTF-8 byte-wise), upper case
 * hex; `@ :` stay literal (SPEC §4: space → `%20`, `@` and `:` literal). Ours on top: `# / \ "` are
 * encoded too, since user names such as `DOMAIN\bob` would otherwise break the URI (RFC 3986 §2.2).
 */
export function libpamUrlEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte <= 0x20 || byte >= 0x7f || '%&?=#/\\"'.includes(c) ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }
  return out;
}

/**
 * `otpauth://totp/USER@LABEL?secret=S[&issuer=ISSUER]` (awplus-spec.md §5.4). HOTP users get `hotp`
 * and the `counter` the Key Uri Format requires: apps increment before they generate (Google
 * Authenticator OtpProvider), so `counter=c-1` makes the app's first code the one we accept next.
 */
export function otpauthUrl(user: TwoFaUser, s: Pick<TwoFaSettings, 'label' | 'issuer'>): string {
  const kind = user.kind === 'hotp' ? 'hotp' : 'totp';
  const counter = user.kind === 'hotp' ? `&counter=${user.counter - 1}` : '';
  const issuer = s.issuer !== undefined ? `&issuer=${libpamUrlEncode(s.issuer)}` : '';
  return `otpauth://${kind}/${libpamUrlEncode(`${user.name}@${s.label}`)}?secret=${user.secret}${counter}${issuer}`;
}

/** External QR generator for `qr link`: the secret leaves the appliance, so the CLI warns. */
export function qrLink(url: string): string {
  return `https://api.qrserver.com/v1/create-qr-code/?size=240x240&data=${encodeURIComponent(url)}`;
}

const QUIET = 4; // ISO/IEC 18004 §7.3.7 quiet zone, in modules

/** The QR matrix with its quiet zone: true = dark module. */
function matrix(text: string): boolean[][] {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'L' });
  const n = qr.modules.size;
  const size = n + 2 * QUIET;
  const rows: boolean[][] = [];
  for (let y = 0; y < size; y++) {
    const row: boolean[] = [];
    for (let x = 0; x < size; x++) {
      const inside = x >= QUIET && y >= QUIET && x < n + QUIET && y < n + QUIET;
      row.push(inside && Boolean(qr.modules.get(y - QUIET, x - QUIET)));
    }
    rows.push(row);
  }
  return rows;
}

/**
 * Two modules per character cell with half blocks, so a code fits an 80-column terminal.
 * `utf8` draws light modules (like qrencode -t UTF8: dark terminals show dark modules on light);
 * `ansi` sets both colours explicitly, so it scans on any colour scheme.
 */
export function renderQr(text: string, style: 'utf8' | 'ansi'): string[] {
  const m = matrix(text);
  const lines: string[] = [];
  for (let y = 0; y < m.length; y += 2) {
    const top = m[y]!;
    const bottom = m[y + 1] ?? top.map(() => false);
    let line = '';
    for (let x = 0; x < top.length; x++) {
      const t = top[x]!;
      const b = bottom[x]!;
      if (style === 'utf8') line += !t && !b ? '█' : !t ? '▀' : !b ? '▄' : ' ';
      else line += `\x1b[${t ? 30 : 97};${b ? 40 : 107}m▀`;
    }
    lines.push(style === 'ansi' ? `${line}\x1b[0m` : line);
  }
  return lines;
}
