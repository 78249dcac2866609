import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { adapterFor } from '../../src/storage/adapter_router.ts';
import type { Database } from '../../src/storage/database.ts';
import { openRedis, type Redis, type RedisTarget } from '../../src/storage/redis.ts';
import { startRedisSentinels, startRedisServer, type RedisSentinels } from '../support/redis_topologies.ts';
import { createPostgresDatabase, deleteRedisKeys, openMigratedDatabase, uniqueRedisPrefix, type MigratedDatabase } from '../support/databases.ts';
import { TEST_REDIS_URL } from '../support/env.ts';

/** What an attacker or a long-running deployment does to the Redis adapter, on the real Redis. */

let sql: MigratedDatabase;
let database: Database;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  sql = await openMigratedDatabase(await createPostgresDatabase());
  database = sql.db;
  redis = await openRedis(TEST_REDIS_URL);
  prefix = uniqueRedisPrefix();
});

afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  redis.disconnect();
  await sql?.close();
});

const stores = (): { db: Knex; redis: Redis; redisPrefix: string } => ({ db: database.knex, redis, redisPrefix: prefix });

/** How many artifact keys a grant's index in Redis names (a set before, a sorted set now). */
async function indexed(model: string, grantId: string): Promise<number> {
  const [index, ...more] = (await redis.keys(`${prefix}${model}:*`)).filter((key) => key.includes(grantId));
  expect(more).toEqual([]);
  return (await redis.type(index!)) === 'zset' ? redis.zcard(index!) : redis.scard(index!);
}

test('a grant refreshed all day keeps in Redis only what its live tokens need: its index does not grow with every token it ever had', async () => {
  const accessTokens = adapterFor(stores(), 'AccessToken');
  const grantId = randomUUID();
  const token = { kind: 'AccessToken', grantId, accountId: 'alice' };
  // A client refreshes before its access token expires: the grant always has a live one, and
  // the index lives on. These 50 have expired since.
  await accessTokens.upsert(randomUUID(), token, 60);
  for (let i = 0; i < 50; i++) await accessTokens.upsert(randomUUID(), token, 1);
  await sleep(2100);
  const latest = randomUUID();
  await accessTokens.upsert(latest, token, 60);

  expect(await indexed('AccessToken', grantId)).toBe(2);
  await accessTokens.revokeByGrantId(grantId);
  expect(await accessTokens.find(latest)).toBeUndefined();
});

test('an instance whose clock runs two minutes ahead does not drop another instance\'s live token from its grant\'s index', async () => {
  const accessTokens = adapterFor(stores(), 'AccessToken');
  const grantId = randomUUID();
  const live = randomUUID();
  await accessTokens.upsert(live, { kind: 'AccessToken', grantId, accountId: 'alice' }, 60);
  const ahead = Date.now() + 120_000;
  const clock = jest.spyOn(Date, 'now').mockImplementation(() => ahead);
  try {
    await accessTokens.upsert(randomUUID(), { kind: 'AccessToken', grantId, accountId: 'alice' }, 60);
  } finally {
    clock.mockRestore();
  }

  await accessTokens.revokeByGrantId(grantId);
  expect(await accessTokens.find(live)).toBeUndefined();
});

test('a token saved without a lifetime is still revoked with its grant after the grant\'s short-lived tokens expired', async () => {
  const accessTokens = adapterFor(stores(), 'AccessToken');
  const grantId = randomUUID();
  await accessTokens.upsert(randomUUID(), { kind: 'AccessToken', grantId, accountId: 'alice' }, 1);
  const lasting = randomUUID();
  await accessTokens.upsert(lasting, { kind: 'AccessToken', grantId, accountId: 'alice' });
  await sleep(2100);

  await accessTokens.revokeByGrantId(grantId);
  expect(await accessTokens.find(lasting)).toBeUndefined();
});

describe('a Redis that refuses writes for now', () => {
  let server: Awaited<ReturnType<typeof startRedisServer>>;
  let own: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    own = await openRedis(server.url);
  });

  afterAll(async () => {
    own?.disconnect();
    await server?.stop();
  });

  afterEach(async () => {
    await server.node.client.config('SET', 'maxmemory', '0');
    await server.node.client.config('SET', 'min-replicas-to-write', '0');
  });

  const accessTokens = () => adapterFor({ db: database.knex, redis: own, redisPrefix: prefix }, 'AccessToken');
  const token = { kind: 'AccessToken', grantId: 'grant-1', accountId: 'alice' };

  test('full (maxmemory reached, noeviction): a save answers 503 temporarily_unavailable, not 500', async () => {
    await server.node.client.config('SET', 'maxmemory-policy', 'noeviction');
    await server.node.client.config('SET', 'maxmemory', '1');
    await expect(accessTokens().upsert(randomUUID(), token, 60)).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' });
  });

  test('too few replicas for its min-replicas-to-write: a save answers 503 temporarily_unavailable, not 500', async () => {
    await server.node.client.config('SET', 'min-replicas-to-write', '1');
    await expect(accessTokens().upsert(randomUUID(), token, 60)).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' });
  });
});

describe('behind Sentinel', () => {
  let sentinels: RedisSentinels;
  const target = (url: string): RedisTarget => ({
    redisUrl: url,
    redisCluster: undefined,
    redisSentinel: { sentinels: sentinels.sentinels.map(({ host, port }) => ({ host, port })), masterName: sentinels.masterName },
  });

  beforeAll(async () => {
    sentinels = await startRedisSentinels();
  }, 30_000);

  afterAll(async () => {
    await sentinels?.stop();
  });

  test('rediss:// in REDIS_URL is honoured: the master\'s password never goes out in clear (a master without TLS is refused)', async () => {
    // The topology's master speaks plain TCP: over TLS, as asked, no session can be opened with it.
    const outcome = await openRedis(target(sentinels.url.replace(/^redis:/, 'rediss:'))).then((redis) => { redis.disconnect(); return 'connected in clear'; }, () => 'refused');
    expect(outcome).toBe('refused');
  });

  test('a save waiting for the replica when the master is demoted (a manual failover) answers 503 temporarily_unavailable, not 500', async () => {
    const own = await openRedis(target(sentinels.url));
    const replica = sentinels.replica.child.pid!;
    try {
      // The replica stalls, so the save's WAIT is still waiting when the master becomes a replica.
      process.kill(replica, 'SIGSTOP');
      const saved = adapterFor({ db: database.knex, redis: own, redisPrefix: prefix }, 'AccessToken').upsert(randomUUID(), { kind: 'AccessToken', grantId: 'grant-1', accountId: 'alice' }, 60);
      await sleep(30);
      await sentinels.master.client.replicaof(sentinels.replica.host, String(sentinels.replica.port));
      await expect(saved).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    } finally {
      process.kill(replica, 'SIGCONT');
      own.disconnect();
    }
  });
});
