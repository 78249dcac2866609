import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { adapterFor } from '../../src/storage/adapter_router.ts';
import { storedId } from '../../src/storage/digested_ids.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { createRedis, openRedis, type Redis } from '../../src/storage/redis.ts';
import { createEmbeddedDatabase, createPostgresDatabase, deleteRedisKeys, openMigratedDatabase, uniqueRedisPrefix, type TestDatabase } from '../support/databases.ts';
import { TEST_REDIS_URL } from '../support/env.ts';

/**
 * The contract oidc-provider relies on from its storage adapter, checked on every backend
 * Gatehouse can run with: the embedded PGlite, Postgres, and Redis (with markers in Postgres).
 */
interface Backend {
  adapter(model: string): Adapter;
  close(): Promise<void>;
}

interface RedisBackend extends Backend {
  redis: Redis;
  prefix: string;
}

async function openSqlBackend(testDb: TestDatabase): Promise<Backend> {
  const { db, close } = await openMigratedDatabase(testDb);
  return { adapter: (model) => adapterFor({ db: db.knex }, model), close };
}

async function openRedisBackend(): Promise<RedisBackend> {
  const sql = await openMigratedDatabase(await createPostgresDatabase());
  const redis = await openRedis(TEST_REDIS_URL);
  const prefix = uniqueRedisPrefix();
  return {
    redis,
    prefix,
    adapter: (model) => adapterFor({ db: sql.db.knex, redis, redisPrefix: prefix }, model),
    close: async () => {
      await deleteRedisKeys(redis, prefix);
      redis.disconnect();
      await sql.close();
    },
  };
}

const BACKENDS: { name: string; open(): Promise<Backend> }[] = [
  { name: 'embedded PGlite', open: async () => openSqlBackend(await createEmbeddedDatabase()) },
  { name: 'Postgres', open: async () => openSqlBackend(await createPostgresDatabase()) },
  { name: 'Redis', open: openRedisBackend },
];

function artifact(kind: string, extra: AdapterPayload = {}): AdapterPayload {
  return { kind, clientId: 'client-1', accountId: 'alice', scope: 'openid', grantId: 'grant-1', ...extra };
}

function code(extra: AdapterPayload = {}): AdapterPayload {
  return artifact('AuthorizationCode', extra);
}

describe.each(BACKENDS)('storage adapter on $name', ({ open }) => {
  let backend: Backend;

  beforeAll(async () => {
    backend = await open();
  });

  afterAll(async () => {
    await backend?.close();
  });

  test('an upserted artifact is found with its payload', async () => {
    const adapter = backend.adapter('AuthorizationCode');
    const id = randomUUID();
    await adapter.upsert(id, code({ nonce: 'n-1' }), 60);
    expect(await adapter.find(id)).toEqual(code({ nonce: 'n-1' }));
  });

  test('upserting again replaces the payload', async () => {
    const adapter = backend.adapter('Session');
    const id = randomUUID();
    await adapter.upsert(id, { kind: 'Session', uid: randomUUID(), accountId: 'alice', loginTs: 1 }, 60);
    const replaced = { kind: 'Session', uid: randomUUID(), accountId: 'bob', loginTs: 2 };
    await adapter.upsert(id, replaced, 60);
    expect(await adapter.find(id)).toEqual(replaced);
  });

  test('an unknown id is not found', async () => {
    expect(await backend.adapter('AuthorizationCode').find(randomUUID())).toBeUndefined();
    expect(await backend.adapter('Session').find(randomUUID())).toBeUndefined();
  });

  test('a session is found by its uid', async () => {
    const adapter = backend.adapter('Session');
    const id = randomUUID();
    const session = { kind: 'Session', uid: randomUUID(), accountId: 'alice' };
    await adapter.upsert(id, session, 60);
    expect(await adapter.findByUid(session.uid)).toEqual(session);
    expect(await adapter.findByUid(randomUUID())).toBeUndefined();
  });

  test('a token is stored under its digest: its value finds it, with its jti, and the digest finds nothing', async () => {
    const adapter = backend.adapter('RefreshToken');
    const value = randomUUID();
    const token = { kind: 'RefreshToken', jti: value, grantId: 'g-1', accountId: 'alice' };
    await adapter.upsert(value, token, 60);
    expect(await adapter.find(value)).toEqual(token);
    expect(await adapter.find(storedId(value))).toBeUndefined();
    await expect(adapter.consume(storedId(value))).rejects.toMatchObject({ error: 'invalid_grant' });
    await adapter.destroy(storedId(value));
    expect(await adapter.find(value)).toEqual(token);
  });

  test('a session found by its uid is saved and destroyed in place, and its handle cannot be forged', async () => {
    const adapter = backend.adapter('Session');
    const value = randomUUID();
    const session = { kind: 'Session', jti: value, uid: randomUUID(), accountId: 'alice' };
    await adapter.upsert(value, session, 60);
    const found = await adapter.findByUid(session.uid);
    expect(found).toMatchObject({ uid: session.uid, accountId: 'alice' });
    // The value is known only to the cookie's holder: what comes back names the row without it.
    const handle = String(found?.jti);
    expect(handle).not.toContain(value);
    expect(await adapter.find(`${handle.slice(0, -4)}AAAA`)).toBeUndefined();
    await adapter.upsert(handle, { ...found, accountId: 'bob' }, 60);
    expect(await adapter.find(value)).toEqual({ ...session, accountId: 'bob' });
    await adapter.destroy(handle);
    expect(await adapter.find(value)).toBeUndefined();
  });

  test('a device code is found by its user code', async () => {
    const adapter = backend.adapter('DeviceCode');
    const id = randomUUID();
    const deviceCode = { kind: 'DeviceCode', clientId: 'tv', userCode: `UC-${randomUUID()}`, params: { scope: 'openid' } };
    await adapter.upsert(id, deviceCode, 60);
    expect(await adapter.findByUserCode(deviceCode.userCode)).toEqual(deviceCode);
    expect(await adapter.findByUserCode('NO-SUCH-CODE')).toBeUndefined();
  });

  test('an artifact is no longer found once it expires', async () => {
    const adapter = backend.adapter('Session');
    const id = randomUUID();
    const uid = randomUUID();
    await adapter.upsert(id, { kind: 'Session', uid, accountId: 'alice' }, 1);
    expect(await adapter.find(id)).toBeDefined();
    await sleep(1200);
    expect(await adapter.find(id)).toBeUndefined();
    expect(await adapter.findByUid(uid)).toBeUndefined();
  });

  test('destroy removes an artifact', async () => {
    const adapter = backend.adapter('Session');
    const id = randomUUID();
    const uid = randomUUID();
    await adapter.upsert(id, { kind: 'Session', uid, accountId: 'alice' }, 60);
    await adapter.destroy(id);
    expect(await adapter.find(id)).toBeUndefined();
    expect(await adapter.findByUid(uid)).toBeUndefined();
  });

  test("revoking a grant removes that grant's artifacts and leaves other grants' and models' alone", async () => {
    const accessTokens = backend.adapter('AccessToken');
    const codes = backend.adapter('AuthorizationCode');
    const [revoked, kept] = [randomUUID(), randomUUID()];
    const [a1, a2, a3, c1] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await accessTokens.upsert(a1, { kind: 'AccessToken', grantId: revoked, accountId: 'alice' }, 60);
    await accessTokens.upsert(a2, { kind: 'AccessToken', grantId: revoked, accountId: 'alice' }, 120);
    await accessTokens.upsert(a3, { kind: 'AccessToken', grantId: kept, accountId: 'alice' }, 60);
    await codes.upsert(c1, code({ grantId: revoked }), 60);

    await accessTokens.revokeByGrantId(revoked);

    expect(await accessTokens.find(a1)).toBeUndefined();
    expect(await accessTokens.find(a2)).toBeUndefined();
    expect(await accessTokens.find(a3)).toEqual({ kind: 'AccessToken', grantId: kept, accountId: 'alice' });
    expect(await codes.find(c1)).toEqual(code({ grantId: revoked }));
    await codes.revokeByGrantId(revoked);
    expect(await codes.find(c1)).toBeUndefined();
  });

  // AuthorizationCode is consumed by the code grant; AccessToken takes Redis's path without SQL markers.
  describe.each(['AuthorizationCode', 'AccessToken'])('consuming an %s', (model) => {
    test('consume marks the artifact with the time it was consumed', async () => {
      const adapter = backend.adapter(model);
      const id = randomUUID();
      await adapter.upsert(id, artifact(model), 60);
      const before = Math.floor(Date.now() / 1000);
      await adapter.consume(id);
      const found = await adapter.find(id);
      expect(found).toMatchObject(artifact(model));
      expect(typeof found?.consumed).toBe('number');
      expect(found?.consumed).toBeGreaterThanOrEqual(before - 1);
      expect(found?.consumed).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 1);
    });

    test('a second consume is rejected as invalid_grant', async () => {
      const adapter = backend.adapter(model);
      const id = randomUUID();
      await adapter.upsert(id, artifact(model), 60);
      await adapter.consume(id);
      await expect(adapter.consume(id)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    test('consuming an unknown id is rejected', async () => {
      await expect(backend.adapter(model).consume(randomUUID())).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    test('of 50 concurrent consumes exactly one succeeds', async () => {
      const adapter = backend.adapter(model);
      const id = randomUUID();
      await adapter.upsert(id, artifact(model), 60);
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => adapter.consume(id)));
      const fulfilled = results.filter((result) => result.status === 'fulfilled');
      const rejected = results.filter((result) => result.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(49);
      for (const result of rejected) expect(result.reason).toMatchObject({ error: 'invalid_grant' });
    });

    test('saving a consumed artifact again keeps it consumed', async () => {
      const adapter = backend.adapter(model);
      const id = randomUUID();
      await adapter.upsert(id, artifact(model), 60);
      await adapter.consume(id);
      const { consumed } = (await adapter.find(id)) ?? {};
      await adapter.upsert(id, artifact(model, { nonce: 'saved-again' }), 60);
      expect(await adapter.find(id)).toEqual({ ...artifact(model, { nonce: 'saved-again' }), consumed });
      await expect(adapter.consume(id)).rejects.toMatchObject({ error: 'invalid_grant' });
    });
  });
});

describe('storage adapter on Redis, with markers in Postgres', () => {
  let backend: RedisBackend;

  beforeAll(async () => {
    backend = await openRedisBackend();
  });

  afterAll(async () => {
    await backend?.close();
  });

  test('access tokens and client credentials share a key space but never answer for each other', async () => {
    const accessTokens = backend.adapter('AccessToken');
    const serverTokens = backend.adapter('ClientCredentials');
    const userToken = randomUUID();
    const serverToken = randomUUID();
    await accessTokens.upsert(userToken, artifact('AccessToken', { grantId: 'g-shared' }), 60);
    await serverTokens.upsert(serverToken, { kind: 'ClientCredentials', clientId: 'job' }, 60);
    // As introspection asks: both models at once, for each token.
    for (const [id, kind] of [[userToken, 'AccessToken'], [serverToken, 'ClientCredentials']] as const) {
      const [asAccess, asServer] = await Promise.all([accessTokens.find(id), serverTokens.find(id)]);
      expect([asAccess?.kind, asServer?.kind]).toEqual(kind === 'AccessToken' ? ['AccessToken', undefined] : [undefined, 'ClientCredentials']);
    }
    // Revoking the grant removes its tokens; a server's token (it has no grant) stays.
    await accessTokens.revokeByGrantId('g-shared');
    expect(await accessTokens.find(userToken)).toBeUndefined();
    expect(await serverTokens.find(serverToken)).toBeDefined();
  });

  test('short-lived artifacts expire in Redis with their lifetime; codes ten minutes later, so a late client hears why', async () => {
    const ttlAfterUpsert = async (model: string) => {
      const id = randomUUID();
      await backend.adapter(model).upsert(id, code(), 60);
      return backend.redis.ttl(`${backend.prefix}${model}:${storedId(id)}`);
    };
    const session = await ttlAfterUpsert('Session');
    expect(session).toBeGreaterThan(0);
    expect(session).toBeLessThanOrEqual(60);
    const authorizationCode = await ttlAfterUpsert('AuthorizationCode');
    expect(authorizationCode).toBeGreaterThan(600);
    expect(authorizationCode).toBeLessThanOrEqual(660);
  });

  test('a consumed code stays consumed after a Redis failover loses the write', async () => {
    const adapter = backend.adapter('AuthorizationCode');
    const id = randomUUID();
    await adapter.upsert(id, code(), 60);
    await adapter.consume(id);
    const { consumed } = (await adapter.find(id)) ?? {};
    expect(typeof consumed).toBe('number');

    // A replica promoted before it received the consume has the code without its mark.
    expect(await backend.redis.hdel(`${backend.prefix}AuthorizationCode:${storedId(id)}`, 'consumed')).toBe(1);

    expect(await adapter.find(id)).toEqual({ ...code(), consumed });
    await expect(adapter.consume(id)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

describe('storage adapter during a backend outage', () => {
  let deadDb: Database;
  let deadRedis: Redis;

  beforeAll(async () => {
    deadDb = await openDatabase({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' });
    // As the provider builds it, but nothing listens on port 1 (openRedis would fail to connect).
    deadRedis = createRedis('redis://127.0.0.1:1');
  });

  afterAll(async () => {
    deadRedis?.disconnect();
    await deadDb?.close();
  });

  test('an unreachable Postgres answers 503 temporarily_unavailable', async () => {
    const adapter = adapterFor({ db: deadDb.knex }, 'AuthorizationCode');
    await expect(adapter.find(randomUUID())).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    await expect(adapter.consume(randomUUID())).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' });
  });

  test('an unreachable Redis answers 503 temporarily_unavailable', async () => {
    const stores = { db: deadDb.knex, redis: deadRedis, redisPrefix: uniqueRedisPrefix() };
    const sessions = adapterFor(stores, 'Session');
    await expect(sessions.find(randomUUID())).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    await expect(sessions.upsert(randomUUID(), { kind: 'Session', uid: randomUUID() }, 60)).rejects
      .toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    const codes = adapterFor(stores, 'AuthorizationCode');
    await expect(codes.consume(randomUUID())).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' });
  });
});
