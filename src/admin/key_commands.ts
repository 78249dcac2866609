import { readFile } from 'node:fs/promises';
import type { Knex } from 'knex';
import { parseKeyEncryptionKey, type Config } from '../config.ts';
import { KeyEncryptionKey } from '../key_encryption.ts';
import { generatedKeyPath, keyEncryptionKeyFor, replaceKeyFile } from '../key_encryption_key.ts';
import { resealStoredKeys } from '../storage/key_resealing.ts';
import { rotateSigningKeys, type KeyPurpose } from '../storage/signing_keys.ts';
import { rotationResult } from './key_listing.ts';
import { auditOperator } from './operator.ts';
import { UsageError, type CommandResult } from './output.ts';

/**
 * `keys re-encrypt --new-key-file PATH`: seals every stored private key and the cookie keys
 * under the key in PATH, opening them with the configured one. The operator then gives the new
 * key to every server (KEY_ENCRYPTION_KEY or _FILE); with the embedded default, its generated
 * file is replaced here, after the database has committed.
 */
export async function reencryptKeys(db: Knex, config: Config, newKeyPath: string): Promise<CommandResult> {
  const text = await readFile(newKeyPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read --new-key-file ${newKeyPath} (${error.code})`);
  });
  const key = parseKeyEncryptionKey(text);
  if (!key) throw new UsageError('--new-key-file must hold 32 random bytes in base64, e.g. made by openssl rand -base64 32 > FILE');
  const from = await keyEncryptionKeyFor(config);
  const to = new KeyEncryptionKey(key);
  const sealed = await db.transaction(async (trx) => {
    const count = await resealStoredKeys(trx, from, to);
    await auditOperator(trx, { event: 'key.resealed', detail: { sealed: count, key_id: to.id, previous_key_id: from.id } });
    return count;
  });
  const generated = generatedKeyPath(config);
  if (generated) {
    await replaceKeyFile(generated, text).catch((error: NodeJS.ErrnoException) => {
      // The database has committed: from now on only the new key opens it.
      throw new Error(`the stored keys are now sealed under the key in ${newKeyPath} (id ${to.id}), but ${generated} could not be replaced `
        + `(${error.code ?? error.message}): start Gatehouse with KEY_ENCRYPTION_KEY_FILE=${newKeyPath}, or copy that file over ${generated}`);
    });
  }
  return {
    json: { key_id: to.id, previous_key_id: from.id, sealed, ...(generated ? { key_file: generated } : {}) },
    text: `sealed ${sealed} stored keys under key ${to.id} (was ${from.id})${generated ? `; ${generated} now holds the new key` : '; give it to every server as KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE'}`,
  };
}

/** `keys rotate`: the new keys and their audit record commit together (instances are told at commit). */
export async function rotateKeys(db: Knex, config: Config, purpose: KeyPurpose): Promise<CommandResult> {
  const kek = await keyEncryptionKeyFor(config);
  return db.transaction(async (trx) => {
    const keys = await rotateSigningKeys(trx, purpose, kek, config.keyActivationDelaySeconds);
    await auditOperator(trx, { event: 'key.rotated', detail: { purpose, kids: keys.map((key) => key.kid), activates_at: keys[0]?.activatesAt.toISOString() } });
    return rotationResult(keys);
  });
}
