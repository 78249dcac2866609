import { Redis } from 'ioredis';

export type { Redis };

/**
 * How long a command (or a connect) may wait for Redis: in a partition the connection stays
 * open and nothing comes back, and a request must get its 503 rather than hang. A command
 * issued while an automatic pipeline is in flight is sent after it, so it fails within twice
 * this. Redis answers in well under a millisecond when it answers at all.
 */
export const REDIS_WAIT_MS = 1000;

/**
 * One ioredis connection, not yet connected. Commands fail at once while Redis is down (no
 * offline queue, one retry) and within REDIS_WAIT_MS while it does not answer, so a request
 * gets a 503 instead of hanging; ioredis keeps reconnecting meanwhile.
 */
export function createRedis(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    // Commands issued in one turn of the event loop (the saves of concurrent token requests)
    // leave in one write: one system call instead of one each.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: REDIS_WAIT_MS,
    commandTimeout: REDIS_WAIT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
  // Without a listener ioredis prints every failed reconnect; readiness reports it instead.
  redis.on('error', () => {});
  return redis;
}

/** createRedis, connected: start-up fails if Redis cannot be reached. */
export async function openRedis(url: string): Promise<Redis> {
  const redis = createRedis(url);
  await redis.connect();
  return redis;
}
