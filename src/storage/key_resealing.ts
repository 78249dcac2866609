import type { Knex } from 'knex';
import type { KeyEncryptionKey } from '../key_encryption.ts';
import { resealSigningKeys } from './signing_keys.ts';
import { resealCookieKeys } from './settings.ts';

/**
 * Seals every stored private signing key and the cookie keys under a new KEK, in one
 * transaction: if any of them does not open with the current KEK, nothing changes.
 * Returns how many rows were sealed.
 */
export function resealStoredKeys(db: Knex, from: KeyEncryptionKey, to: KeyEncryptionKey): Promise<number> {
  return db.transaction(async (trx) => (await resealSigningKeys(trx, from, to)) + (await resealCookieKeys(trx, from, to)));
}
