import { openDatabase } from '../../src/storage/database.ts';
import { TEST_POSTGRES_URL } from '../support/env.ts';
import { proxyInFront } from '../support/tcp_proxy.ts';

test('pool connections dropped without a word (a NAT forgetting them) each fail one query, then are replaced', async () => {
  const { proxy, url } = await proxyInFront(TEST_POSTGRES_URL);
  const db = await openDatabase({ kind: 'postgres', url }, { max: 3 });
  try {
    // Three connections open and back in the pool.
    await Promise.all([1, 2, 3].map(() => db.knex.raw('SELECT pg_sleep(0.05)')));
    proxy.forget();
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await db.knex.raw('SELECT 1').then(() => 'answered', () => 'failed'));
    // Each forgotten connection costs the one query that finds it out (1.25 s); Postgres answers the rest.
    expect(answers).toEqual(['failed', 'failed', 'failed', 'answered', 'answered', 'answered']);
  } finally {
    await db.close();
    await proxy.close();
  }
});
