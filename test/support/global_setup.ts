import pg from 'pg';
import { Redis } from 'ioredis';
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from './env.ts';

const HOW_TO_START = `
The test suite runs against a real PostgreSQL and Redis. \`npm test\` starts its own, on
127.0.0.1:15432 and 127.0.0.1:16379, and leaves them running (\`npm run test:stop\` stops them).
Jest run directly uses TEST_POSTGRES_URL / TEST_REDIS_URL, by default the machine's own servers
on 5432 and 6379: start those, or, after one \`npm test\`, point the variables at the suite's own:
  TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:15432/test TEST_REDIS_URL=redis://127.0.0.1:16379`;

/** Fails the whole run, with instructions, when Postgres or Redis is unreachable: never a silent skip. */
export default async function globalSetup(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}: ${(error as Error).message}${HOW_TO_START}`);
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${TEST_REDIS_URL}: ${(error as Error).message}${HOW_TO_START}`);
  } finally {
    redis.disconnect();
  }
}
