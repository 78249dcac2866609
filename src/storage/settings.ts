import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

const TABLE = 'settings';
// Three keys so an operator can rotate by prepending one (oidc-provider signs with the first).
const GENERATED_COOKIE_KEYS = 3;

/** Cookie signing keys: generated on first start and kept, so sessions survive restarts. */
export async function loadCookieKeys(db: Knex): Promise<string[]> {
  const generated = Array.from({ length: GENERATED_COOKIE_KEYS }, () => randomBytes(32).toString('base64url'));
  await db(TABLE).insert({ name: 'cookie_keys', value: JSON.stringify(generated) }).onConflict('name').ignore();
  const row: { value: string[] } = await db(TABLE).select('value').where({ name: 'cookie_keys' }).first();
  return row.value;
}
