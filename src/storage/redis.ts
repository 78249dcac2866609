import { Cluster, Redis as Server, type RedisOptions } from 'ioredis';
import type { Config, HostPort } from '../config.ts';

/** One Redis server (found directly or through Sentinel), or a Redis Cluster. */
export type Redis = Server | Cluster;

/** Where Redis is, as configured (src/config.ts): a URL, a Cluster's seeds, or sentinels. */
export type RedisTarget = Pick<Config, 'redisUrl' | 'redisCluster' | 'redisSentinel'>;

/**
 * How long a command (or a connect) may wait for Redis: in a partition the connection stays
 * open and nothing comes back, and a request must get its 503 rather than hang. A command
 * issued while an automatic pipeline is in flight is sent after it, so it fails within twice
 * this. Redis answers in well under a millisecond when it answers at all.
 */
export const REDIS_WAIT_MS = 1000;

/**
 * How long a write behind Sentinel waits for a replica to acknowledge it (WAIT): a replica on
 * the same network answers in a millisecond. With no replica answering, the write stands
 * unacknowledged after this: a failover in that moment can lose it (see docs/deploy.md).
 */
export const REPLICA_WAIT_MS = 100;

/** After a WAIT no replica answered, how long writes go on without waiting before the next try. */
const REPLICA_SILENT_MS = 1000;

/**
 * Commands fail at once while Redis is down (no offline queue, one retry) and within
 * REDIS_WAIT_MS while it does not answer, so a request gets a 503 instead of hanging; ioredis
 * keeps reconnecting meanwhile.
 */
const FAIL_FAST = {
  lazyConnect: true,
  // Commands issued in one turn of the event loop (the saves of concurrent token requests)
  // leave in one write: one system call instead of one each.
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: REDIS_WAIT_MS,
  commandTimeout: REDIS_WAIT_MS,
  // A command's timeout leaves its connection in place, and every command shares that one
  // connection: one whose flow a NAT or firewall dropped without a word failed every command
  // for the OS's retransmission timeout (about 15 minutes), Redis answering all along. With
  // commands due and nothing heard for this long, the connection is dropped and made again.
  socketTimeout: REDIS_WAIT_MS,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
} satisfies RedisOptions;

export function redisConfigured(target: RedisTarget): boolean {
  return Boolean(target.redisUrl || target.redisCluster || target.redisSentinel);
}

/** A connection to the configured Redis (a URL alone also does), not yet connected. */
export function createRedis(target: RedisTarget | string): Redis {
  const { redisUrl, redisCluster, redisSentinel } = typeof target === 'string' ? { redisUrl: target, redisCluster: undefined, redisSentinel: undefined } : target;
  let redis: Redis;
  if (redisCluster) {
    const { seed, options } = fromUrl(redisUrl);
    const { lazyConnect, enableAutoPipelining, enableOfflineQueue, retryStrategy, ...perNode } = FAIL_FAST;
    redis = new Cluster(seed ? [...redisCluster, seed] : redisCluster, {
      lazyConnect,
      enableAutoPipelining,
      enableOfflineQueue,
      clusterRetryStrategy: retryStrategy,
      slotsRefreshTimeout: REDIS_WAIT_MS,
      // A command the cluster refuses for now (CLUSTERDOWN, TRYAGAIN, its node gone) is retried
      // 100 ms apart, and redirections (MOVED, ASK) count too: all within REDIS_WAIT_MS.
      maxRedirections: REDIS_WAIT_MS / 100 - 2,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      retryDelayOnFailover: 100,
      // A cluster has only database 0.
      redisOptions: { ...perNode, ...options, db: 0 },
    });
  } else if (redisSentinel) {
    redis = new Server({
      ...FAIL_FAST,
      ...fromUrl(redisUrl).options,
      sentinels: redisSentinel.sentinels,
      name: redisSentinel.masterName,
      sentinelRetryStrategy: FAIL_FAST.retryStrategy,
      sentinelCommandTimeout: REDIS_WAIT_MS,
      // Sentinel's +switch-master reaches us at once, not at the next failed command.
      failoverDetector: true,
      // Otherwise ioredis ignores `tls` (rediss:) for the master and sends its password in clear.
      enableTLSForSentinelMode: true,
    });
  } else {
    redis = new Server(redisUrl!, FAIL_FAST);
  }
  // Without a listener ioredis prints every failed reconnect; readiness reports it instead.
  redis.on('error', () => {});
  return redis;
}

/** createRedis, connected: start-up fails if Redis cannot be reached. */
export async function openRedis(target: RedisTarget | string): Promise<Redis> {
  const redis = createRedis(target);
  // Behind Sentinel connect() waits for as long as no sentinel answers (ioredis asks them all
  // again and again, as a running server should); the first round that reaches none fails here.
  let unreachable: (error: Error) => void = () => {};
  const noSentinel = new Promise<never>((_, reject) => { unreachable = reject; });
  redis.once('error', unreachable);
  try {
    await Promise.race([redis.connect(), noSentinel]);
  } catch (error) {
    // Otherwise ioredis goes on reconnecting, and the process (a CLI command) never exits.
    redis.disconnect();
    throw error;
  } finally {
    redis.off('error', unreachable);
  }
  return redis;
}

/**
 * Readiness: Redis answers and, for a Cluster, serves every slot (a PING answered by one node
 * says nothing of a master that is gone).
 */
export async function redisReady(redis: Redis): Promise<void> {
  if (!(redis instanceof Cluster)) {
    await redis.ping();
    return;
  }
  const info = await redis.cluster('INFO');
  if (!info.includes('cluster_state:ok')) throw new Error('CLUSTERDOWN the cluster does not serve every slot');
}

/**
 * QUIT (replies still due arrive first), then what QUIT leaves open: behind Sentinel, the
 * connections watching the sentinels for a failover, which would keep a CLI process alive.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => {});
  redis.disconnect();
}

const replicaAcks = new WeakMap<Redis, ReplicaAcks>();

/**
 * Behind Sentinel, a promise that resolves once a replica has every write this connection sent
 * so far: a failover promotes a replica, and what it never received is lost. Elsewhere nothing
 * to wait for (a Cluster's failover has the same gap, but WAIT there speaks for one node: see
 * docs/deploy.md), and no promise: the token endpoint's saves take no extra turn of the loop.
 */
export function replicated(redis: Redis): Promise<void> | undefined {
  if (!(redis instanceof Server) || !redis.options.sentinels?.length) return undefined;
  let acks = replicaAcks.get(redis);
  if (!acks) replicaAcks.set(redis, (acks = new ReplicaAcks(redis)));
  return acks.wait();
}

/**
 * WAIT blocks the connection it is sent on, so concurrent writers share one: at most one is in
 * flight, and those who wrote after it was sent share the next. While no replica answers (after
 * a failover, until the old master returns as a replica) writes do not wait at all, save one
 * try every REPLICA_SILENT_MS: they are then as exposed as with plain asynchronous replication.
 */
class ReplicaAcks {
  readonly #redis: Server;
  #inFlight: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #silentUntil = 0;

  constructor(redis: Server) {
    this.#redis = redis;
  }

  wait(): Promise<void> {
    if (Date.now() < this.#silentUntil) return Promise.resolve();
    if (!this.#inFlight) {
      this.#inFlight = this.#redis.wait(1, REPLICA_WAIT_MS).then((replicas) => {
        if (replicas === 0) this.#silentUntil = Date.now() + REPLICA_SILENT_MS;
      }).finally(() => {
        this.#inFlight = undefined;
      });
      return this.#inFlight;
    }
    // Even when that one failed (Redis went away): this caller's writes still need their own.
    this.#next ??= this.#inFlight.catch(() => undefined).then(() => {
      this.#next = undefined;
      return this.wait();
    });
    return this.#next;
  }
}

/**
 * Every key matching a glob pattern, a SCAN page at a time. On a Cluster each master holds part
 * of the key space, so each is scanned.
 */
export async function* scanKeys(redis: Redis, pattern: string, count: number): AsyncGenerator<string[]> {
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length) yield keys;
    } while (cursor !== '0');
  }
}

/** What REDIS_URL adds to a Cluster's or a Sentinel's nodes: one more seed, credentials, TLS, database. */
function fromUrl(url: string | undefined): { seed?: HostPort; options: RedisOptions } {
  if (!url) return { options: {} };
  const parsed = new URL(url);
  return {
    seed: { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 6379) },
    options: {
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
      ...(/^\/\d+$/.test(parsed.pathname) ? { db: Number(parsed.pathname.slice(1)) } : {}),
    },
  };
}
