/**
 * The page's lines, inside the 2FA block (they need `service 2fa`, and are kept by `no service 2fa`
 * like every 2FA setting). The certificate comes first, so pasting the block never makes a
 * self-signed certificate that the next line replaces.
 */
import type { RunningConfig } from '../../config/model.ts';

export function renderLines(cfg: Readonly<RunningConfig>): string[] {
  const t = cfg.twofa;
  const lines: string[] = [];
  const c = t.registrationCertificate;
  if (c) lines.push(`2fa self-registration certificate flash:/${c.cert} key flash:/${c.key}`);
  if (t.registrationPort !== undefined) lines.push(`2fa self-registration port ${t.registrationPort}`);
  return lines;
}
