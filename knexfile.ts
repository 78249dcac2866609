import { loadConfig } from './src/config.ts';
import { migrationSource } from './migrations/index.ts';

/**
 * For knex's own CLI against Postgres (DATABASE_URL). `gatehouse migrate` is the supported
 * way and also handles the embedded database.
 */
const config = loadConfig();
if (config.database.kind !== 'postgres') {
  throw new Error('knexfile.ts needs DATABASE_URL; for the embedded database run `npx gatehouse migrate`');
}

export default {
  client: 'pg',
  connection: config.database.url,
  migrations: { migrationSource },
};
