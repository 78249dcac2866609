import type { Knex } from 'knex';
import { endSessionsOf, recordSessionActivity, sessionRecordsOf } from '../../src/storage/account_sessions.ts';
import { migrateLatest, openDatabase, type Database } from '../../src/storage/database.ts';
import { grantsOf, latestGrantId } from '../../src/storage/grants.ts';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';

/**
 * A person's sessions and grants are found by the account id inside oidc_models' payload: the
 * account page does so on every load. Each lookup must reach that person's rows through an index
 * on the account id, not read every person's (74 ms a page at 200,000 session records).
 */
describe('lookups by account on Postgres', () => {
  let testDb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    testDb = await createPostgresDatabase();
    db = await openDatabase(testDb.config);
    await migrateLatest(db.knex);
    await recordSessionActivity(db.knex, { sessionUid: 'uid-1', accountId: 'alice', userAgent: 'test', ip: '192.0.2.1', expiresAt: new Date(Date.now() + 60_000) });
  });

  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  /** The index conditions of the plans of the statements `run` sends, with sequential scans ruled out. */
  async function indexConditions(run: (trx: Knex.Transaction) => Promise<unknown>): Promise<string[]> {
    const statements: { sql: string; bindings: readonly unknown[] }[] = [];
    await db.knex.transaction(async (trx) => {
      // knex reports the statement as sent, with $1, $2…: back to its own ? placeholders, in order.
      const listen = (query: { sql: string; bindings?: readonly unknown[] }) => void statements.push({ sql: query.sql.replace(/\$\d+/g, '?'), bindings: query.bindings ?? [] });
      db.knex.on('query', listen);
      try {
        await run(trx);
      } finally {
        db.knex.off('query', listen);
      }
      await trx.rollback();
    }).catch(() => {});
    const conditions: string[] = [];
    for (const { sql, bindings } of statements) {
      await db.knex.transaction(async (trx) => {
        await trx.raw('SET LOCAL enable_seqscan = off');
        const { rows } = await trx.raw(`EXPLAIN ${sql}`, bindings as Knex.RawBinding[]);
        conditions.push((rows as { 'QUERY PLAN': string }[]).map((row) => row['QUERY PLAN']).filter((line) => line.includes('Index Cond')).join('\n'));
      });
    }
    return conditions;
  }

  test.each([
    ['the account page’s session records', (trx: Knex.Transaction) => sessionRecordsOf(trx, 'alice')],
    ['signing a person out everywhere', (trx: Knex.Transaction) => endSessionsOf({ db: trx }, 'alice')],
    ['the account page’s apps', (trx: Knex.Transaction) => grantsOf(trx, 'alice')],
    ['consent given in an earlier session', (trx: Knex.Transaction) => latestGrantId(trx, 'alice', 'app')],
  ])('%s: found by an index on the account id', async (_what, run) => {
    const conditions = await indexConditions(run);
    expect(conditions.length).toBeGreaterThan(0);
    for (const condition of conditions) expect(condition).toContain("'accountId'");
  });
});
