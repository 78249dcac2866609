import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { ConfigError } from './config.ts';

/**
 * Private signing keys and cookie keys are stored sealed with AES-256-GCM under the operator's
 * key-encryption key (KEK), so a dump of the database holds nothing that signs or forges.
 * The associated data names what a sealed value is (its table and key id), so a sealed value
 * copied onto another row does not open there.
 */
export interface SealedSecret {
  /** The id of the KEK it is sealed under: says which key opens it, and lets a re-encryption find stragglers. */
  kek: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

/** A KEK that does not open what is stored: a start-up or CLI failure the operator reads as one line. */
export class KeyEncryptionError extends ConfigError {
  override name = 'KeyEncryptionError';
}

const KEY_BYTES = 32;
// 96-bit nonces, random per seal: GCM's standard size; a few keys per rotation stay far from the collision bound.
const IV_BYTES = 12;

export class KeyEncryptionKey {
  readonly id: string;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new ConfigError(`a key-encryption key is ${KEY_BYTES} bytes, not ${key.length}`);
    this.#key = key;
    // Derived, not hashed plainly: the id is printed and stored, and says nothing about the key.
    this.id = createHmac('sha256', key).update('gatehouse key-encryption key id').digest('hex').slice(0, 16);
  }

  seal(value: unknown, label: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv).setAAD(Buffer.from(label));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return { kek: this.id, iv: iv.toString('base64url'), ciphertext: ciphertext.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
  }

  open(sealed: SealedSecret, label: string): unknown {
    try {
      if (sealed.kek !== this.id) throw new Error('another key');
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(sealed.iv, 'base64url')).setAAD(Buffer.from(label));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
      return JSON.parse(Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64url')), decipher.final()]).toString('utf8'));
    } catch {
      throw new KeyEncryptionError(`the key-encryption key (id ${this.id}) does not open the stored keys (sealed under key id ${sealed.kek}): `
        + 'set KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE to the key they were sealed with');
    }
  }
}

export function isSealed(value: unknown): value is SealedSecret {
  return typeof value === 'object' && value !== null && 'ciphertext' in value && 'kek' in value;
}

/** A new KEK as the operator would write it (what `openssl rand -base64 32` prints). */
export function generateKeyText(): string {
  return `${randomBytes(KEY_BYTES).toString('base64')}\n`;
}
