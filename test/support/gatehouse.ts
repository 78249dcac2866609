import type { Provider } from 'oidc-provider';
import type { DestinationStream } from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { openServices, type Services } from '../../src/services.ts';
import { createApp } from '../../src/app.ts';
import { createEmbeddedDatabase, createPostgresDatabase, deleteRedisKeys, uniqueRedisPrefix, type TestDatabase } from './databases.ts';
import { TEST_REDIS_URL } from './env.ts';
import { listen } from './listen.ts';

/** The key-encryption key of every test Gatehouse on Postgres (32 bytes in base64). */
export const TEST_KEY_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export interface RunningGatehouse {
  url: string;
  config: Config;
  services: Services;
  provider: Provider;
  /** The prefix of every Redis key this Gatehouse writes (deleted at close). */
  redisPrefix: string;
  close(): Promise<void>;
}

export interface StartOptions {
  database?: 'postgres' | 'embedded';
  redis?: boolean;
  env?: Record<string, string>;
  /** Overrides the database connection (e.g. through a proxy the test can cut). */
  databaseConfig?: Config['database'];
  redisUrl?: string;
  /** The Redis key prefix (default: one of its own); instances given the same one share their keys, as in production. */
  redisPrefix?: string;
  /** Where the log lines go (LOG_LEVEL in env decides which); unset, stdout. */
  logTo?: DestinationStream;
}

/**
 * Gatehouse in this process on a free port, as `npm start` builds it, over its own fresh
 * database and Redis prefix. The issuer is the real listening URL, so discovery is exact.
 */
export async function startGatehouse(options: StartOptions = {}): Promise<RunningGatehouse> {
  const testDb: TestDatabase | undefined = options.databaseConfig
    ? undefined
    : options.database === 'embedded' ? await createEmbeddedDatabase() : await createPostgresDatabase();
  const http = await listen();
  const url = http.url;
  const database = options.databaseConfig ?? testDb!.config;
  // Postgres needs the operator's key-encryption key; the embedded database generates its own.
  const base = loadConfig({ ISSUER: url, LOG_LEVEL: 'silent', ...(database.kind === 'postgres' ? { KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY } : {}), ...options.env });
  const config: Config = {
    ...base,
    database,
    // A Cluster or Sentinel given in env (REDIS_CLUSTER_NODES, REDIS_SENTINELS) replaces the test Redis.
    redisUrl: options.redis === false || base.redisCluster || base.redisSentinel ? base.redisUrl : (options.redisUrl ?? TEST_REDIS_URL),
  };
  const services = await openServices(config);
  const redisPrefix = options.redisPrefix ?? uniqueRedisPrefix();
  const provider = await createApp({ config, logger: createLogger(config.logLevel, options.logTo), ...services, redisPrefix });
  http.serve(provider.callback());
  return {
    url,
    config,
    services,
    provider,
    redisPrefix,
    close: async () => {
      await http.close();
      // Best effort: a test may have left Redis unreachable, and the keys expire anyway.
      if (services.redis) await deleteRedisKeys(services.redis, redisPrefix).catch(() => {});
      await services.close();
      await testDb?.drop();
    },
  };
}
