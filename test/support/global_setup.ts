import pg from 'pg';
import { Redis } from 'ioredis';
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from './env.ts';

const HOW_TO_START = `
The test suite runs against a real PostgreSQL and Redis. \`npm test\` starts its own, on
127.0.0.1:15432 and 127.0.0.1:16379 with passwords of their own, and leaves them running
(\`npm run test:stop\` stops them); \`npm test -- test/x.test.ts\` runs one file against them.
Jest run directly uses TEST_POSTGRES_URL / TEST_REDIS_URL, by default the machine's own servers
on 5432 and 6379 with no password: start those, or point the variables at servers you have.`;

/** The URL for a message: the password never reaches a log. */
function shown(url: string): string {
  const copy = new URL(url);
  if (copy.password) copy.password = '***';
  return copy.toString();
}

/** Fails the whole run, with instructions, when Postgres or Redis is unreachable: never a silent skip. */
export default async function globalSetup(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${shown(TEST_POSTGRES_URL)}: ${(error as Error).message}${HOW_TO_START}`);
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${shown(TEST_REDIS_URL)}: ${(error as Error).message}${HOW_TO_START}`);
  } finally {
    redis.disconnect();
  }
}
