import { execFile } from 'node:child_process';
import { chmod, lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import type { Knex } from 'knex';
import { migrateLatest, openDatabase } from '../../src/storage/database.ts';
import { generateSigningKey } from '../../src/storage/signing_keys.ts';
import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';
import { gatehouse } from '../support/cli.ts';

/**
 * Private signing keys and cookie keys are sealed under the operator's key-encryption key, and
 * the embedded database's files are the owner's alone: a copy of the database, or a look into
 * DATA_DIR by another local user, yields nothing that signs a token or forges a session.
 */
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** What a dump of the key tables shows. */
async function dumpKeyTables(db: Knex): Promise<string> {
  return JSON.stringify([...(await db('signing_keys').select()), ...(await db('settings').select())]);
}

/** The cookie keys the running provider signs with (oidc-provider hands them to koa). */
function cookieKeys(gh: RunningGatehouse): string[] {
  return gh.provider.keys as string[];
}

async function publishedKids(gh: RunningGatehouse): Promise<string[]> {
  const jwks = (await (await fetch(`${gh.url}/jwks`)).json()) as { keys: JWK[] };
  return jwks.keys.map((key) => key.kid!).sort();
}

/**
 * Runs the real server where it must refuse to start. Bounded: a server that starts anyway is
 * killed after 30 s, and the test sees no exit code of its own.
 */
function refusedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const fullEnv = { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env };
    execFile(process.execPath, [MAIN], { env: fullEnv, timeout: 30_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
    });
  });
}

describe('on Postgres', () => {
  let testDb: TestDatabase;
  let url: string;
  let db: Knex;
  let clearKids: string[];
  const clearCookieKeys = ['c'.repeat(43), 'k'.repeat(43)];
  let dir: string;

  beforeAll(async () => {
    testDb = await createPostgresDatabase();
    url = (testDb.config as { url: string }).url;
    const database = await openDatabase(testDb.config, { max: 1 });
    db = database.knex;
    await migrateLatest(db);
    dir = await mkdtemp(join(tmpdir(), 'gh-kek-'));
  });
  afterAll(async () => {
    await db.destroy();
    await testDb.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('keys an older Gatehouse stored in clear are sealed at the next start and stay the same keys', async () => {
    // As an older Gatehouse left them: private JWKs and cookie keys in clear.
    const keys = await Promise.all((['main', 'restricted'] as const).flatMap((purpose) => (['RS256', 'ES256'] as const)
      .map(async (alg) => ({ purpose, jwk: await generateSigningKey(alg) }))));
    for (const { purpose, jwk } of keys) {
      await db('signing_keys').insert({ kid: jwk.kid, purpose, alg: jwk.alg, private_jwk: JSON.stringify(jwk) });
    }
    await db('settings').insert({ name: 'cookie_keys', value: JSON.stringify(clearCookieKeys) });
    clearKids = keys.filter((key) => key.purpose === 'main').map((key) => key.jwk.kid!).sort();
    expect(await dumpKeyTables(db)).toMatch(/"d":/);

    const gh = await startGatehouse({ databaseConfig: testDb.config, redis: false });
    try {
      expect(await publishedKids(gh)).toEqual(clearKids);
      expect(cookieKeys(gh)).toEqual(clearCookieKeys);
    } finally {
      await gh.close();
    }
    const dump = await dumpKeyTables(db);
    expect(dump).not.toMatch(/"d":/);
    for (const key of clearCookieKeys) expect(dump).not.toContain(key);
  }, 60_000);

  test('a start with the wrong key-encryption key stops with one line, and no stack', async () => {
    const wrongKey = Buffer.alloc(32, 9).toString('base64');
    const run = await refusedStart({ DATABASE_URL: url, KEY_ENCRYPTION_KEY: wrongKey });
    expect(run).toEqual({ code: 1, stderr: expect.stringMatching(/^the key-encryption key \(id \w+\) does not open the stored keys [^\n]*\n$/) });
    // Nor without any: on Postgres the operator gives the key, no server makes up its own.
    const none = await refusedStart({ DATABASE_URL: url });
    expect(none).toEqual({ code: 1, stderr: expect.stringMatching(/^invalid configuration: KEY_ENCRYPTION_KEY: required with DATABASE_URL[^\n]*\n$/) });
  }, 70_000);

  test('keys re-encrypt moves every stored key to a new key-encryption key, which the old one no longer opens', async () => {
    const newKeyFile = join(dir, 'new-key');
    await writeFile(newKeyFile, `${Buffer.alloc(32, 5).toString('base64')}\n`, { mode: 0o600 });
    const before = await dumpKeyTables(db);
    const run = await gatehouse(['keys', 're-encrypt', '--new-key-file', newKeyFile, '--json'], { DATABASE_URL: url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    // Four signing keys and the cookie keys.
    expect(JSON.parse(run.stdout)).toMatchObject({ sealed: 5 });
    expect(await dumpKeyTables(db)).not.toEqual(before);

    const old = await refusedStart({ DATABASE_URL: url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY });
    expect(old).toEqual({ code: 1, stderr: expect.stringMatching(/^the key-encryption key \(id \w+\) does not open the stored keys [^\n]*\n$/) });

    const gh = await startGatehouse({ databaseConfig: testDb.config, redis: false, env: { KEY_ENCRYPTION_KEY: '', KEY_ENCRYPTION_KEY_FILE: newKeyFile } });
    try {
      expect(await publishedKids(gh)).toEqual(clearKids);
      expect(cookieKeys(gh)).toEqual(clearCookieKeys);
    } finally {
      await gh.close();
    }
  }, 70_000);

  test('keys rotate with the wrong key-encryption key changes nothing', async () => {
    const before = await dumpKeyTables(db);
    const run = await gatehouse(['keys', 'rotate'], { DATABASE_URL: url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY });
    expect(run).toEqual({ code: 2, stdout: '', stderr: expect.stringMatching(/^gatehouse: the key-encryption key \(id \w+\) does not open the stored keys [^\n]*\n$/) });
    expect(await dumpKeyTables(db)).toEqual(before);
  }, 30_000);
});

describe('embedded', () => {
  test('the data directory and every file in it are the owner\'s alone, an existing open directory too', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gh-private-'));
    // As an older Gatehouse or a careless mkdir left it.
    await chmod(dataDir, 0o755);
    const gh = await startGatehouse({ databaseConfig: { kind: 'embedded', dataDir }, redis: false });
    try {
      const entries = await readdir(dataDir, { recursive: true, withFileTypes: true });
      const modes = await Promise.all([dataDir, ...entries.map((entry) => join(entry.parentPath, entry.name))]
        .map(async (path) => ({ path, mode: (await lstat(path)).mode & 0o777 })));
      expect(modes.length).toBeGreaterThan(100);
      expect(modes.filter(({ mode }) => mode & 0o077)).toEqual([]);
      // The generated key-encryption key is there, and a dump shows only sealed keys.
      expect(modes).toContainEqual({ path: join(dataDir, 'key-encryption-key'), mode: 0o600 });
      expect(Buffer.from((await readFile(join(dataDir, 'key-encryption-key'), 'utf8')).trim(), 'base64')).toHaveLength(32);
      const dump = await dumpKeyTables(gh.services.database.knex);
      expect(dump).not.toMatch(/"d":/);
      for (const key of cookieKeys(gh)) expect(dump).not.toContain(key);
    } finally {
      await gh.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  test('a half-written key file a crash left behind (a container restarts with the same pid) does not stop the next start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gh-crashed-'));
    try {
      await writeFile(join(dataDir, `key-encryption-key.${process.pid}.new`), 'half', { mode: 0o600 });
      const gh = await startGatehouse({ databaseConfig: { kind: 'embedded', dataDir }, redis: false });
      await gh.close();
      expect(Buffer.from((await readFile(join(dataDir, 'key-encryption-key'), 'utf8')).trim(), 'base64')).toHaveLength(32);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  test('keys re-encrypt replaces the generated key-encryption key, and the server starts with the new one', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gh-reseal-'));
    try {
      const first = await startGatehouse({ databaseConfig: { kind: 'embedded', dataDir }, redis: false });
      const kids = await publishedKids(first);
      const keys = cookieKeys(first);
      await first.close();
      const oldKey = await readFile(join(dataDir, 'key-encryption-key'), 'utf8');
      const newKeyFile = join(dataDir, 'new-key');
      await writeFile(newKeyFile, `${Buffer.alloc(32, 3).toString('base64')}\n`, { mode: 0o600 });

      const run = await gatehouse(['keys', 're-encrypt', '--new-key-file', newKeyFile, '--json'], { DATA_DIR: dataDir });
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(run.stdout)).toMatchObject({ sealed: 5, key_file: join(dataDir, 'key-encryption-key') });
      expect(await readFile(join(dataDir, 'key-encryption-key'), 'utf8')).toBe(await readFile(newKeyFile, 'utf8'));
      expect((await lstat(join(dataDir, 'key-encryption-key'))).mode & 0o777).toBe(0o600);
      const old = await refusedStart({ DATA_DIR: dataDir, KEY_ENCRYPTION_KEY: oldKey.trim() });
      expect(old).toEqual({ code: 1, stderr: expect.stringMatching(/^the key-encryption key \(id \w+\) does not open the stored keys [^\n]*\n$/) });

      const again = await startGatehouse({ databaseConfig: { kind: 'embedded', dataDir }, redis: false });
      try {
        expect(await publishedKids(again)).toEqual(kids);
        expect(cookieKeys(again)).toEqual(keys);
      } finally {
        await again.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
