import { closeRedis, openRedis } from '../../src/storage/redis.ts';
import { uniqueRedisPrefix } from '../support/databases.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { proxyInFront } from '../support/tcp_proxy.ts';

test('a Redis connection dropped without a word (a NAT forgetting it) fails the commands then in flight, then is replaced', async () => {
  const { proxy, url } = await proxyInFront(TEST_REDIS_URL);
  const redis = await openRedis(url);
  const key = `${uniqueRedisPrefix()}silent-drop`;
  try {
    await redis.set(key, 'kept', 'EX', 60);
    proxy.forget();
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      answers.push(await redis.get(key).then((value) => value ?? 'missing', () => 'failed'));
      // Time for the reconnect that follows a failure (ioredis's first retry is 100 ms later).
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // Redis itself answers all along: only the command that found the dead connection fails.
    expect(answers).toEqual(['failed', 'kept', 'kept', 'kept']);
  } finally {
    await redis.del(key).catch(() => {});
    await closeRedis(redis);
    await proxy.close();
  }
});
