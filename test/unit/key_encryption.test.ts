import { loadConfig } from '../../src/config.ts';
import { KeyEncryptionKey } from '../../src/key_encryption.ts';

const key = (fill: number) => new KeyEncryptionKey(Buffer.alloc(32, fill));

test.each([
  [{ KEY_ENCRYPTION_KEY: 'hunter2' }, 'invalid configuration: KEY_ENCRYPTION_KEY: expected 32 random bytes in base64, e.g. from openssl rand -base64 32'],
  [{ KEY_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, 'invalid configuration: KEY_ENCRYPTION_KEY: expected 32 random bytes in base64, e.g. from openssl rand -base64 32'],
  [{ KEY_ENCRYPTION_KEY_FILE: '/nonexistent/kek' }, 'invalid configuration: KEY_ENCRYPTION_KEY_FILE: cannot read /nonexistent/kek (ENOENT)'],
  [{ KEY_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'), KEY_ENCRYPTION_KEY_FILE: '/etc/hostname' }, expect.stringMatching(/^invalid configuration: KEY_ENCRYPTION_KEY_FILE: required to be unset when KEY_ENCRYPTION_KEY is set/)],
])('a bad key-encryption key %j is refused with one line that never shows the value', (env, message) => {
  expect(() => loadConfig(env)).toThrow(expect.objectContaining({ message }));
  expect(() => loadConfig(env)).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
});

test('a key in base64 or base64url is accepted as the same key', () => {
  const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i));
  expect(loadConfig({ KEY_ENCRYPTION_KEY: bytes.toString('base64') }).keyEncryptionKey).toEqual(bytes);
  expect(loadConfig({ KEY_ENCRYPTION_KEY: bytes.toString('base64url') }).keyEncryptionKey).toEqual(bytes);
});

test('a sealed value opens only with its key and under its own label', () => {
  const sealed = key(1).seal(['cookie key'], 'settings:cookie_keys');
  expect(JSON.stringify(sealed)).not.toContain('cookie key');
  expect(key(1).open(sealed, 'settings:cookie_keys')).toEqual(['cookie key']);
  expect(() => key(1).open(sealed, 'signing_keys:other')).toThrow(/does not open the stored keys/);
  expect(() => key(2).open(sealed, 'settings:cookie_keys')).toThrow(`the key-encryption key (id ${key(2).id}) does not open the stored keys (sealed under key id ${key(1).id})`);
  expect(() => key(1).open({ ...sealed, tag: key(1).seal(['x'], 'settings:cookie_keys').tag }, 'settings:cookie_keys')).toThrow(/does not open/);
});
