import { randomBytes } from 'node:crypto';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, parseKeyEncryptionKey, type Config } from './config.ts';
import { generateKeyText, KeyEncryptionKey } from './key_encryption.ts';

/**
 * The key-encryption key of this configuration: the operator's (KEY_ENCRYPTION_KEY or its
 * file) or, for the embedded database only, one generated on first start into DATA_DIR, which
 * is the owner's alone. Several servers share a Postgres database, so there the operator must
 * give the same key to each: a generated one would differ per machine.
 */
export async function keyEncryptionKeyFor(config: Config): Promise<KeyEncryptionKey> {
  if (config.keyEncryptionKey) return new KeyEncryptionKey(config.keyEncryptionKey);
  const path = generatedKeyPath(config);
  if (!path) {
    throw new ConfigError('invalid configuration: KEY_ENCRYPTION_KEY: required with DATABASE_URL: 32 random bytes in base64 '
      + '(openssl rand -base64 32), the same for every server; or KEY_ENCRYPTION_KEY_FILE naming a file that holds them');
  }
  return new KeyEncryptionKey(await readOrCreateKeyFile(path));
}

/** The generated key's file when this configuration uses one. */
export function generatedKeyPath(config: Config): string | undefined {
  return !config.keyEncryptionKey && config.database.kind === 'embedded' ? join(config.database.dataDir, 'key-encryption-key') : undefined;
}

/** Puts a new key in the generated key's file, whole or not at all (after a re-encryption). */
export async function replaceKeyFile(path: string, keyText: string): Promise<void> {
  const temporary = await writeBeside(path, keyText);
  await rename(temporary, path).catch(async (error: unknown) => {
    await rm(temporary, { force: true });
    throw error;
  });
}

/**
 * A new file next to `path`, the owner's alone, under a random name: one a crash left behind
 * never stands in the way (in a container every start has the same pid).
 */
async function writeBeside(path: string, text: string): Promise<string> {
  const temporary = `${path}.${randomBytes(8).toString('hex')}.new`;
  await writeFile(temporary, text, { mode: 0o600, flag: 'wx' }).catch(async (error: unknown) => {
    await rm(temporary, { force: true });
    throw error;
  });
  return temporary;
}

async function readOrCreateKeyFile(path: string): Promise<Buffer> {
  let text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) {
    // Written aside and linked into place: a concurrent first start (the CLI and the server)
    // reads a whole file, and the one that loses the race takes the winner's key.
    const temporary = await writeBeside(path, generateKeyText());
    try {
      await link(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(temporary, { force: true });
    }
    text = await readFile(path, 'utf8');
  }
  const key = parseKeyEncryptionKey(text);
  if (!key) throw new ConfigError(`invalid key-encryption key file ${path}: expected 32 random bytes in base64 (openssl rand -base64 32)`);
  return key;
}
