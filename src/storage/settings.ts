import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { isSealed, type KeyEncryptionKey, type SealedSecret } from '../key_encryption.ts';

const TABLE = 'settings';
// Three keys so an operator can rotate by prepending one (oidc-provider signs with the first).
const GENERATED_COOKIE_KEYS = 3;
// The associated data of the sealed cookie keys: the row they belong to.
const COOKIE_KEYS_LABEL = `${TABLE}:cookie_keys`;

/**
 * Cookie signing keys: generated on first start and kept sealed under the KEK, so sessions
 * survive restarts and a dump of the database forges no cookie. Keys an older Gatehouse kept
 * in clear are sealed here.
 */
export async function loadCookieKeys(db: Knex, kek: KeyEncryptionKey): Promise<string[]> {
  const generated = Array.from({ length: GENERATED_COOKIE_KEYS }, () => randomBytes(32).toString('base64url'));
  await db(TABLE).insert({ name: 'cookie_keys', value: JSON.stringify(kek.seal(generated, COOKIE_KEYS_LABEL)) }).onConflict('name').ignore();
  const row: { value: SealedSecret | string[] } = await db(TABLE).select('value').where({ name: 'cookie_keys' }).first();
  if (isSealed(row.value)) return kek.open(row.value, COOKIE_KEYS_LABEL) as string[];
  await db(TABLE).where({ name: 'cookie_keys' }).update({ value: JSON.stringify(kek.seal(row.value, COOKIE_KEYS_LABEL)) });
  return row.value;
}

/** Seals the stored cookie keys under `to` in the caller's transaction; returns how many rows (0 or 1). */
export async function resealCookieKeys(trx: Knex.Transaction, from: KeyEncryptionKey, to: KeyEncryptionKey): Promise<number> {
  const row: { value: SealedSecret | string[] } | undefined = await trx(TABLE).select('value').where({ name: 'cookie_keys' }).forUpdate().first();
  if (!row) return 0;
  const keys = isSealed(row.value) ? from.open(row.value, COOKIE_KEYS_LABEL) : row.value;
  await trx(TABLE).where({ name: 'cookie_keys' }).update({ value: JSON.stringify(to.seal(keys, COOKIE_KEYS_LABEL)) });
  return 1;
}
