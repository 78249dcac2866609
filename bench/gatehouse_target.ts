import type { Knex } from 'knex';
import { loadConfig, type Config } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { openServices } from '../src/services.ts';
import { createApp } from '../src/app.ts';
import { createClient } from '../src/admin/client_commands.ts';
import { loadScopeCatalogue } from '../src/storage/enterprise_scopes.ts';
import { ClientStore, type StoredClient } from '../src/storage/clients.ts';
import { createPostgresDatabase, uniqueRedisPrefix } from '../test/support/databases.ts';
import { TEST_REDIS_URL } from '../test/support/env.ts';
import { listen, type Target } from './listen.ts';

export interface Credentials {
  client_id: string;
  client_secret: string;
}

export interface BenchClients {
  server: Credentials;
  resourceServer: Credentials;
}

/** What the baseline takes from Gatehouse, so both sides differ only in storage and middleware. */
export interface SharedSetup {
  config: Config;
  /** Gatehouse's database: the keys and settings createApp loaded, and the scope policy's source. */
  db: Knex;
  /** The clients as stored (secret digests included), for the baseline's static `clients`. */
  storedClients: StoredClient[];
}

export interface GatehouseTarget extends Target {
  /** The same Gatehouse (same services, keys and issuer) without the live group check at introspection. */
  uncheckedUrl: string;
  clients: BenchClients;
  shared: SharedSetup;
}

/**
 * Gatehouse as `npm start` builds it (Postgres + Redis), in this process, over a fresh database
 * and its own Redis prefix, with a server and a resource-server client registered by the CLI's code.
 */
export async function startGatehouseTarget(): Promise<GatehouseTarget> {
  const database = await createPostgresDatabase();
  const http = await listen();
  const uncheckedHttp = await listen();
  const redisPrefix = uniqueRedisPrefix();
  // 'error' rather than 'silent': a server_error during the run must be visible.
  const base = loadConfig({ ISSUER: http.url, LOG_LEVEL: 'error', JANITOR_INTERVAL_SECONDS: '0' });
  const config: Config = { ...base, database: database.config, redisUrl: TEST_REDIS_URL };
  const services = await openServices(config);
  const close = async (): Promise<void> => {
    await http.close();
    await uncheckedHttp.close();
    await deleteKeys(services.redis, redisPrefix);
    await services.close();
    await database.drop();
  };
  try {
    const provider = await createApp({ config, logger: createLogger(config.logLevel), ...services, redisPrefix });
    http.serve(provider.callback());
    const unchecked = await createApp({ config, logger: createLogger(config.logLevel), ...services, redisPrefix, liveIntrospection: false });
    uncheckedHttp.serve(unchecked.callback());
    const db = services.database.knex;
    const catalogue = await loadScopeCatalogue(db, config.loginScope);
    const server = credentials((await createClient(catalogue, { name: 'Bench server', kind: 'server', scopes: 'auth-none read' })(db)).json);
    const resourceServer = credentials((await createClient(catalogue, { name: 'Bench API', kind: 'resource-server' })(db)).json);
    const store = new ClientStore(db);
    const storedClients = await Promise.all([server, resourceServer].map(async ({ client_id }) => (await store.find(client_id))!));
    return {
      name: 'Gatehouse',
      url: http.url,
      uncheckedUrl: uncheckedHttp.url,
      clients: { server, resourceServer },
      shared: { config, db, storedClients },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function credentials(shown: unknown): Credentials {
  const { client_id, client_secret } = shown as Partial<Credentials>;
  if (!client_id || !client_secret) throw new Error('createClient did not return a client_id and a secret');
  return { client_id, client_secret };
}

/** The run leaves tens of thousands of tokens in Redis; they would expire, but go now. */
async function deleteKeys(redis: Awaited<ReturnType<typeof openServices>>['redis'], prefix: string): Promise<void> {
  if (!redis) return;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
