import type { Config } from './config.ts';
import { migrateLatest, openDatabase, type Database } from './storage/database.ts';
import { openRedis, type Redis } from './storage/redis.ts';

export interface Services {
  database: Database;
  redis: Redis | undefined;
  close(): Promise<void>;
}

/** Opens the configured database (migrated to the latest schema) and Redis, if any. */
export async function openServices(config: Config): Promise<Services> {
  const database = await openDatabase(config.database);
  try {
    await migrateLatest(database.knex);
    const redis = config.redisUrl ? await openRedis(config.redisUrl) : undefined;
    return {
      database,
      redis,
      close: async () => {
        redis?.disconnect();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
