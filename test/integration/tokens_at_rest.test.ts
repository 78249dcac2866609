import { randomBytes } from 'node:crypto';
import { adapterFor } from '../../src/storage/adapter_router.ts';
import { migrateLatest, openDatabase, type Database, type Knex } from '../../src/storage/database.ts';
import { SqlAdapter } from '../../src/storage/sql_adapter.ts';
import { ConsumedMarkers } from '../../src/storage/consumed_markers.ts';
import { storedId } from '../../src/storage/digested_ids.ts';
import { migrationSource } from '../../migrations/index.ts';
import type { Redis } from '../../src/storage/redis.ts';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc } from '../support/relying_party.ts';
import { UserAgent } from '../support/user_agent.ts';
import { clientCredentials, introspect } from '../support/http.ts';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';

const CALLBACK = 'https://portal.example.edu/cb';

/** Every row Gatehouse keeps for oidc-provider, as text. */
async function sqlDump(db: Knex): Promise<string[]> {
  const rows: { row: string }[] = await db.raw("SELECT concat_ws(' ', model, id, payload::text) AS row FROM oidc_models UNION ALL SELECT concat_ws(' ', model, id) FROM consumed_markers")
    .then((result: { rows: { row: string }[] }) => result.rows);
  return rows.map((r) => r.row);
}

/** Every key under the prefix with its value, as text. */
async function redisDump(redis: Redis, prefix: string): Promise<string[]> {
  const entries: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    for (const key of keys) {
      const type = await redis.type(key);
      const value = type === 'hash' ? await redis.hgetall(key) : type === 'zset' ? await redis.zrange(key, '0', '-1') : await redis.get(key);
      entries.push(`${key} ${JSON.stringify(value)}`);
    }
    cursor = next;
  } while (cursor !== '0');
  return entries;
}

/** What a reader of Postgres and of Redis would see. */
async function dumpOf(gh: RunningGatehouse): Promise<string[]> {
  return [...await sqlDump(gh.services.database.knex), ...(gh.services.redis ? await redisDump(gh.services.redis, gh.redisPrefix) : [])];
}

/** The session id: the value of the browser's session cookie (oidc-provider changes it as the sign-in proceeds). */
function sessionCookie(browser: UserAgent, issuer: string): string | undefined {
  return /(?:^|; )_session=([^;]+)/.exec(browser.cookieHeader(`${issuer}/`))?.[1];
}

describe.each([
  { backend: 'Postgres and Redis', redis: true },
  { backend: 'Postgres alone', redis: false },
])('a dump of $backend holds no token that works', ({ redis }) => {
  let gh: RunningGatehouse;

  beforeAll(async () => {
    gh = await startGatehouse({ database: 'postgres', redis });
  });
  afterAll(() => gh.close());

  test('after a sign-in with offline_access, a refresh and a client credentials token, no issued value is stored, and all of them still work', async () => {
    const db = gh.services.database.knex;
    const web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CALLBACK], scopes: 'openid offline_access' });
    const job = await registerClient(db, { name: 'Job', kind: 'server', scopes: 'read' });
    const api = await registerClient(db, { name: 'API', kind: 'resource-server' });
    await createPerson(db, { username: 'alice', password: 'correct horse battery' });
    const portal = await relyingParty(gh.url, web, CALLBACK);

    const browser = new UserAgent(CALLBACK);
    const request = await portal.begin({ scope: 'openid offline_access', prompt: 'consent' });
    // The consent page comes after the session exists: its interaction names the session.
    const consent = await browser.signIn(request.url, 'alice', 'correct horse battery');
    const atConsent = await dumpOf(gh);
    const sessionAtConsent = sessionCookie(browser, gh.url);
    const callback = await browser.submit(consent, '/confirm');
    if (callback.kind !== 'callback') throw new Error(`expected the callback, got ${callback.url}`);
    const code = new URL(callback.url).searchParams.get('code')!;
    const session = sessionCookie(browser, gh.url);
    const tokens = await portal.finish(callback.url, request);
    const refreshed = await oidc.refreshTokenGrant(portal.config, tokens.refresh_token!);
    const server = (await clientCredentials(gh.url, job, { scope: 'read' })).body.access_token as string;

    const issued = { code, sessionAtConsent, session, access: tokens.access_token, refresh: tokens.refresh_token, refreshedAccess: refreshed.access_token, server };
    for (const [name, value] of Object.entries(issued)) expect([name, value]).toEqual([name, expect.stringMatching(/^[\w-]{20,}$/)]);

    const dump = [...atConsent, ...await dumpOf(gh)];
    // The artifacts are there, under their digests: a dump without them would prove nothing.
    const models = ['Session', 'Interaction', 'AccessToken', 'RefreshToken', 'AuthorizationCode'];
    expect(models.filter((model) => !dump.some((entry) => entry.includes(model)))).toEqual([]);
    const stored = Object.entries(issued).filter(([, value]) => dump.some((entry) => entry.includes(value!))).map(([name]) => name);
    expect(stored).toEqual([]);

    // Each still works for whoever holds it.
    expect((await introspect(gh.url, refreshed.access_token, api)).body).toMatchObject({ active: true, client_id: web.client_id });
    expect((await introspect(gh.url, server, api)).body).toMatchObject({ active: true, client_id: job.client_id });
    expect((await oidc.refreshTokenGrant(portal.config, tokens.refresh_token!)).access_token).toEqual(expect.any(String));
    const again = await browser.open((await portal.begin({ scope: 'openid' })).url);
    expect(again.kind).toBe('callback');
  });
});

describe('tokens stored in clear before the digests', () => {
  let testDb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    testDb = await createPostgresDatabase();
    db = await openDatabase(testDb.config);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  test('are rewritten by the migration: found by their value afterwards, consumed ones still consumed, no value left in the table', async () => {
    const before: Knex.MigrationSource<string> = {
      ...migrationSource,
      getMigrations: async (loaders) => (await migrationSource.getMigrations(loaders)).filter((name) => name < '20261130010000'),
    };
    await db.knex.migrate.latest({ migrationSource: before });

    // Written as the adapter wrote them until now: the value as id and as jti.
    const value = () => randomBytes(32).toString('base64url');
    const [refresh, consumedCode, session, client] = [value(), value(), value(), 'portal'];
    const expiresIn = 3600;
    await new SqlAdapter(db.knex, 'RefreshToken').upsert(refresh, { kind: 'RefreshToken', jti: refresh, grantId: 'g-1', accountId: 'alice' }, expiresIn);
    await new SqlAdapter(db.knex, 'AuthorizationCode').upsert(consumedCode, { kind: 'AuthorizationCode', jti: consumedCode, grantId: 'g-1' }, expiresIn);
    await new SqlAdapter(db.knex, 'AuthorizationCode').consume(consumedCode);
    await new ConsumedMarkers(db.knex).mark('AuthorizationCode', consumedCode, new Date(Date.now() + 60_000));
    await new SqlAdapter(db.knex, 'Session').upsert(session, { kind: 'Session', jti: session, uid: 'session-uid', accountId: 'alice' }, expiresIn);
    await new SqlAdapter(db.knex, 'Interaction').upsert('interaction-1', { kind: 'Interaction', jti: 'interaction-1', session: { uid: 'session-uid', accountId: 'alice', cookie: session } }, expiresIn);
    await new SqlAdapter(db.knex, 'Client').upsert(client, { client_id: client });

    await migrateLatest(db.knex);

    const dump = await sqlDump(db.knex);
    for (const secret of [refresh, consumedCode, session]) expect(dump.filter((entry) => entry.includes(secret))).toEqual([]);
    expect(await adapterFor({ db: db.knex }, 'RefreshToken').find(refresh)).toEqual({ kind: 'RefreshToken', jti: refresh, grantId: 'g-1', accountId: 'alice' });
    const code = await adapterFor({ db: db.knex }, 'AuthorizationCode').find(consumedCode);
    expect(code).toMatchObject({ jti: consumedCode, consumed: expect.any(Number) });
    await expect(adapterFor({ db: db.knex }, 'AuthorizationCode').consume(consumedCode)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await new ConsumedMarkers(db.knex).consumedAt('AuthorizationCode', storedId(consumedCode))).toEqual(expect.any(Number));
    expect(await adapterFor({ db: db.knex }, 'Session').find(session)).toMatchObject({ jti: session, uid: 'session-uid' });
    expect(await adapterFor({ db: db.knex }, 'Session').findByUid('session-uid')).toMatchObject({ accountId: 'alice' });
    expect(await adapterFor({ db: db.knex }, 'Interaction').find('interaction-1')).toMatchObject({ jti: 'interaction-1', session: { uid: 'session-uid' } });
    expect(await adapterFor({ db: db.knex }, 'Client').find(client)).toEqual({ client_id: client });
  });
});
