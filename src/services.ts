import type { Config } from './config.ts';
import { migrateAtStart, openDatabase, type Database, type DatabaseLog } from './storage/database.ts';
import { openRedis, redisConfigured, type Redis } from './storage/redis.ts';
import { ClientCache } from './storage/client_changes.ts';
import { AuditWriter, type AuditWriterLog } from './storage/audit_log.ts';

export interface Services {
  database: Database;
  redis: Redis | undefined;
  clientCache: ClientCache;
  /** Where requests record audit events (buffered; see AuditWriter). */
  audit: AuditWriter;
  close(): Promise<void>;
}

/** Opens the configured database (migrated to the latest schema) and Redis, if any. */
export async function openServices(config: Config, log?: DatabaseLog & AuditWriterLog): Promise<Services> {
  const database = await openDatabase(config.database, { idleTimeoutSeconds: config.databaseIdleTimeoutSeconds, log });
  try {
    await migrateAtStart(config.database, database);
    const redis = redisConfigured(config) ? await openRedis(config) : undefined;
    const clientCache = new ClientCache();
    await clientCache.listen(database.connection);
    const audit = new AuditWriter(database.knex, log ?? { error: () => {} });
    return {
      database,
      redis,
      clientCache,
      audit,
      close: async () => {
        await clientCache.close();
        await audit.close();
        redis?.disconnect();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
