/**
 * Reversible encryption of configuration secrets that must be usable again (the SMTP password), for
 * running-config's `password 8 …` form while `service password-encryption` is on. AES-256-GCM under a
 * key in flash (`.config.key`, owner-only) that never enters the config: a sealed value only opens on
 * the appliance that sealed it.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Flash } from './flash.ts';

const KEY_FILE = '.config.key';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** Opens the box of a flash directory, making its key on first use. */
  static forFlash(flash: Flash): SecretBox {
    if (!flash.exists(KEY_FILE)) flash.write(KEY_FILE, randomBytes(32).toString('base64') + '\n', 0o600);
    return new SecretBox(Buffer.from(flash.read(KEY_FILE).trim(), 'base64'));
  }

  /**
   * One word of URL-safe base64: iv ‖ tag ‖ ciphertext. The IV is an HMAC of the text (synthetic IV),
   * so the same secret always seals the same way and a rendered config renders back identically;
   * this shows only whether two sealed values are equal.
   */
  seal(text: string): string {
    const iv = createHmac('sha256', this.key).update('iv').update(text).digest().subarray(0, 12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
  }

  /** The text, or undefined when the value was not sealed by this box (another appliance, or damage). */
  open(sealed: string): string | undefined {
    try {
      const raw = Buffer.from(sealed, 'base64url');
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
