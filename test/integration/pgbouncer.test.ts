import { openDatabase } from '../../src/storage/database.ts';
import { TEST_POSTGRES_URL } from '../support/env.ts';
import { startPgBouncer } from '../support/pgbouncer.ts';

test('Gatehouse connects through PgBouncer (session mode, its defaults), with every statement still bounded', async () => {
  const bouncer = await startPgBouncer(TEST_POSTGRES_URL);
  const db = await openDatabase({ kind: 'postgres', url: bouncer.url });
  try {
    // PgBouncer refused statement_timeout as a startup parameter: "unsupported startup parameter".
    const { rows } = await db.knex.raw('SHOW statement_timeout');
    expect(rows).toEqual([{ statement_timeout: '1250ms' }]);
  } finally {
    await db.close();
    await bouncer.close();
  }
});
