/**
 * The one AES-256-GCM helper for every sealed blob (store secrets, config secrets, user-data files).
 * A sealed blob is `iv (12) ‖ tag (16) ‖ ciphertext`; NIST SP 800-38D §8.2: a 96-bit IV, never reused
 * under one key (random, or synthetic where sealing must be deterministic).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV = 12;
const TAG = 16;

/** Encrypts `plaintext`; `aad` is authenticated but not encrypted. */
export function encrypt(key: Buffer, iv: Buffer, plaintext: Buffer, aad?: Buffer): { ciphertext: Buffer; tag: Buffer } {
  const c = createCipheriv('aes-256-gcm', key, iv);
  if (aad) c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
  return { ciphertext, tag: c.getAuthTag() };
}

/** Decrypts and authenticates; throws when the key, the AAD or any byte is wrong. */
export function decrypt(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, aad?: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  if (aad) d.setAAD(aad);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ciphertext), d.final()]);
}

/** `iv ‖ tag ‖ ciphertext` of `plaintext`; a random IV unless one is given (synthetic IV). */
export function seal(key: Buffer, plaintext: Buffer, aad?: Buffer, iv: Buffer = randomBytes(IV)): Buffer {
  const { ciphertext, tag } = encrypt(key, iv, plaintext, aad);
  return Buffer.concat([iv, tag, ciphertext]);
}

/** The plaintext of a `seal` blob; throws when it does not open. */
export function open(key: Buffer, blob: Buffer, aad?: Buffer): Buffer {
  if (blob.length < IV + TAG) throw new Error('sealed value too short');
  return decrypt(key, blob.subarray(0, IV), blob.subarray(IV + TAG), blob.subarray(IV, IV + TAG), aad);
}
