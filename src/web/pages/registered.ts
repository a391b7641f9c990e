/**
 * The page shown once after a registration: the QR code for the authenticator app, the same as a
 * link (for the phone that shows the page), the key as text, and the scratch codes (AW+ 2FA manual,
 * TOTP方式における自己登録用Webページ, step 5: QR code, backup codes below it, keep them safe).
 */
import QRCode from 'qrcode';
import { escapeHtml, page } from '../html.ts';
import type { Registration } from '../types.ts';

/** CSS pixels of the QR code: about 6 px a module for a typical otpauth URL, easy to scan off a screen. */
export const QR_PIXELS = 288;

/**
 * The QR code as inline SVG markup (never an image from elsewhere: the secret stays on the appliance).
 * Four modules of white quiet zone all round (ISO/IEC 18004 §7.3.7), dark on light whatever the page's
 * colours, error correction M so a glare spot on a screen is survivable.
 */
export async function qrSvg(text: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, width: QR_PIXELS, color: { dark: '#000000', light: '#ffffff' } });
  return svg.trim().replace(/^<svg /, '<svg role="img" aria-label="QR code for your authenticator app" ');
}

/** `JBSWY3DPEHPK3PXP` → `JBSW Y3DP EHPK 3PXP`: easier to type into an app by hand. */
export function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

/** Only otpauth: links become links; anything else from the backend would be shown as text only. */
const isOtpauth = (url: string) => /^otpauth:\/\/(totp|hotp)\//i.test(url);

export async function registeredPage(user: string, r: Registration): Promise<string> {
  const link = isOtpauth(r.otpauthUrl)
    ? `<p>Using the phone that has the app? Tap to add the account:</p>
<p><a class="button" href="${escapeHtml(r.otpauthUrl)}">Add to authenticator app</a></p>`
    : '';
  const codes = r.scratchCodes.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('\n');
  return page(
    'Two-factor registration complete',
    `<h1>Set up your authenticator app</h1>
<p>Two-factor authentication is now registered for <strong>${escapeHtml(user)}</strong>. This page is shown only once.</p>
<h2>1. Add the account to your app</h2>
<p>Scan this QR code with your authenticator app.</p>
<div class="qr">${await qrSvg(r.otpauthUrl)}</div>
${link}
<p>Or enter this key in the app by hand (time-based):</p>
<p class="secret"><code>${escapeHtml(groupSecret(r.secret))}</code></p>
<h2>2. Keep your backup codes</h2>
<p class="important">Store these backup codes somewhere safe, away from your phone, for example printed on paper or in a password manager.</p>
<p>Each code can be used once instead of a code from the app, for example when your phone is lost.</p>
<ul class="codes">
${codes}
</ul>
<p class="note">After you leave this page, the key and the backup codes cannot be shown again. If you lose them, ask your administrator to reset your registration.</p>`,
  );
}
