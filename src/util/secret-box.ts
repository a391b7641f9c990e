/**
 * Reversible encryption of configuration secrets that must be usable again (the SMTP password, RADIUS
 * keys), for running-config's `8 …` form while `service password-encryption` is on. AES-256-GCM under a
 * key in flash (`.config.key`, owner-only) that never enters the config: a sealed value only opens on
 * the appliance that sealed it.
 */
import { createHmac } from 'node:crypto';
import { open, seal } from './aead.ts';
import { loadKeyFile } from './key-file.ts';

const KEY_FILE = '.config.key';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** Opens the box of a flash directory, making its key on first use. */
  static forFlash(flashDir: string): SecretBox {
    return new SecretBox(loadKeyFile(flashDir, KEY_FILE));
  }

  /**
   * One word of URL-safe base64. The IV is an HMAC of the text (synthetic IV), so the same secret
   * always seals the same way and a rendered config renders back identically; this shows only
   * whether two sealed values are equal.
   */
  seal(text: string): string {
    const iv = createHmac('sha256', this.key).update('iv').update(text).digest().subarray(0, 12);
    return seal(this.key, Buffer.from(text, 'utf8'), undefined, iv).toString('base64url');
  }

  /** The text, or undefined when the value was not sealed by this box (another appliance, or damage). */
  open(sealed: string): string | undefined {
    try {
      return open(this.key, Buffer.from(sealed, 'base64url')).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
