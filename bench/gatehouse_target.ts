import type { Knex } from 'knex';
import type { Config } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { createApp } from '../src/app.ts';
import { ClientStore, type StoredClient } from '../src/storage/clients.ts';
import { startGatehouse } from '../test/support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../test/support/clients.ts';
import { listen } from '../test/support/listen.ts';

/** A server under load: where it listens, and how to take it down. */
export interface Target {
  name: string;
  url: string;
  close(): Promise<void>;
}

export interface BenchClients {
  server: RegisteredClient;
  resourceServer: RegisteredClient;
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
 * Gatehouse as `npm start` builds it (Postgres + Redis, or Postgres alone), in this process, over
 * a fresh database and its own Redis prefix, with a server and a resource-server client registered
 * by the CLI's code.
 */
export async function startGatehouseTarget({ redis = true } = {}): Promise<GatehouseTarget> {
  // 'error' rather than 'silent': a server_error during the run must be visible.
  const gh = await startGatehouse({ database: 'postgres', redis, env: { LOG_LEVEL: 'error', JANITOR_INTERVAL_SECONDS: '0' } });
  const unchecked = await listen();
  const close = async (): Promise<void> => {
    await unchecked.close();
    await gh.close();
  };
  try {
    const { config, services, redisPrefix } = gh;
    unchecked.serve((await createApp({ config, logger: createLogger(config.logLevel), ...services, redisPrefix, liveIntrospection: false })).callback());
    const db = services.database.knex;
    const server = await registerClient(db, { name: 'Bench server', kind: 'server', scopes: 'auth-none read' }, config.loginScope);
    const resourceServer = await registerClient(db, { name: 'Bench API', kind: 'resource-server' }, config.loginScope);
    const store = new ClientStore(db);
    const storedClients = await Promise.all([server, resourceServer].map(async ({ client_id }) => (await store.find(client_id))!));
    return {
      name: 'Gatehouse',
      url: gh.url,
      uncheckedUrl: unchecked.url,
      clients: { server, resourceServer },
      shared: { config, db, storedClients },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
