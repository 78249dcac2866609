import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Provider } from 'oidc-provider';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { openServices, type Services } from '../../src/services.ts';
import { createApp } from '../../src/app.ts';
import { createEmbeddedDatabase, createPostgresDatabase, uniqueRedisPrefix, type TestDatabase } from './databases.ts';
import { TEST_REDIS_URL } from './env.ts';

export interface RunningGatehouse {
  url: string;
  config: Config;
  services: Services;
  provider: Provider;
  server: Server;
  close(): Promise<void>;
}

export interface StartOptions {
  database?: 'postgres' | 'embedded';
  redis?: boolean;
  env?: Record<string, string>;
  /** Overrides the database connection (e.g. through a proxy the test can cut). */
  databaseConfig?: Config['database'];
  redisUrl?: string;
}

/**
 * Gatehouse in this process on a free port, as `npm start` builds it, over its own fresh
 * database and Redis prefix. The issuer is the real listening URL, so discovery is exact.
 */
export async function startGatehouse(options: StartOptions = {}): Promise<RunningGatehouse> {
  const testDb: TestDatabase | undefined = options.databaseConfig
    ? undefined
    : options.database === 'embedded' ? await createEmbeddedDatabase() : await createPostgresDatabase();
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const base = loadConfig({ ISSUER: url, LOG_LEVEL: 'silent', ...options.env });
  const config: Config = {
    ...base,
    database: options.databaseConfig ?? testDb!.config,
    redisUrl: options.redis === false ? undefined : (options.redisUrl ?? TEST_REDIS_URL),
  };
  const services = await openServices(config);
  const provider = await createApp({ config, logger: createLogger('silent'), ...services, redisPrefix: uniqueRedisPrefix() });
  server.on('request', provider.callback());
  return {
    url,
    config,
    services,
    provider,
    server,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await services.close();
      await testDb?.drop();
    },
  };
}
