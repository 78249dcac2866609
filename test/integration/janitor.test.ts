import { randomUUID } from 'node:crypto';
import { adapterFor } from '../../src/storage/adapter_router.ts';
import { ConsumedMarkers } from '../../src/storage/consumed_markers.ts';
import { storedId } from '../../src/storage/digested_ids.ts';
import type { Database } from '../../src/storage/database.ts';
import { runJanitor } from '../../src/storage/janitor.ts';
import { createPostgresDatabase, openMigratedDatabase, type MigratedDatabase } from '../support/databases.ts';

// Postgres only: the embedded PGlite runs the same SQL, and starting one costs ~8 s of CPU.
describe('janitor on Postgres', () => {
  let sql: MigratedDatabase;
  let db: Database;

  beforeAll(async () => {
    sql = await openMigratedDatabase(await createPostgresDatabase());
    db = sql.db;
  });

  afterAll(async () => {
    await sql?.close();
  });

  /** Rows as oidc-provider's adapter would have left them, expired a minute ago. */
  async function insertExpired(model: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    const expiresAt = new Date(Date.now() - 60_000);
    await db.knex('oidc_models').insert(ids.map((id) => ({ model, id, payload: JSON.stringify({ kind: model }), expires_at: expiresAt })));
    return ids;
  }

  test('expired artifacts are removed in batches and live ones survive', async () => {
    const sessions = adapterFor({ db: db.knex }, 'Session');
    const clients = adapterFor({ db: db.knex }, 'Client');
    const expired = await insertExpired('Session', 5);
    const live = randomUUID();
    await sessions.upsert(live, { kind: 'Session', uid: randomUUID(), accountId: 'alice' }, 3600);
    await clients.upsert('durable-client', { client_id: 'durable-client' });

    expect(await runJanitor(db.knex, { batchSize: 2 })).toMatchObject({ removed: 5, tables: { oidc_models: 5 } });

    const left: { id: string }[] = await db.knex('oidc_models').select('id').whereIn('id', [...expired, storedId(live), 'durable-client']);
    expect(left.map((row) => row.id).sort()).toEqual([storedId(live), 'durable-client'].sort());
    expect(await sessions.find(live)).toMatchObject({ accountId: 'alice' });
    expect(await clients.find('durable-client')).toEqual({ client_id: 'durable-client' });
  });

  test('a batch size that divides the expired rows still removes them all', async () => {
    await insertExpired('AccessToken', 4);
    expect((await runJanitor(db.knex, { batchSize: 2 })).removed).toBe(4);
    expect((await runJanitor(db.knex, { batchSize: 2 })).removed).toBe(0);
  });

  test('many times more expired rows than one batch are all removed, beside live ones left alone', async () => {
    const expired = await insertExpired('RefreshToken', 250);
    const grants = adapterFor({ db: db.knex }, 'Grant');
    const live = Array.from({ length: 30 }, () => randomUUID());
    for (const id of live) await grants.upsert(id, { kind: 'Grant', accountId: 'bob', clientId: 'portal' }, 3600);

    expect(await runJanitor(db.knex, { batchSize: 7 })).toMatchObject({ removed: 250, tables: { oidc_models: 250 } });

    expect(await db.knex('oidc_models').whereIn('id', expired).count({ n: '*' })).toEqual([{ n: '0' }]);
    for (const id of live) expect(await grants.find(id)).toMatchObject({ accountId: 'bob' });
  });

  test('a limit stops a run after that many rows per table, and the next run takes the rest', async () => {
    const expired = await insertExpired('AccessToken', 9);

    expect(await runJanitor(db.knex, { batchSize: 2, limit: 5 })).toMatchObject({ removed: 5, tables: { oidc_models: 5 } });
    expect(await db.knex('oidc_models').whereIn('id', expired).count({ n: '*' })).toEqual([{ n: '4' }]);

    expect(await runJanitor(db.knex, { batchSize: 2, limit: 5 })).toMatchObject({ removed: 4, tables: { oidc_models: 4 } });
    expect(await db.knex('oidc_models').whereIn('id', expired).count({ n: '*' })).toEqual([{ n: '0' }]);
  });

  test('expired sign-in counts are removed; running and permanent ones are kept', async () => {
    // As rate-limiter-flexible stores them: `expire` in milliseconds since the epoch, NULL for ever.
    await db.knex('rate_limits').insert([
      { key: 'login-account:old1', points: 3, expire: Date.now() - 60_000 },
      { key: 'login-account:old2', points: 1, expire: Date.now() - 1_000 },
      { key: 'login-account:running', points: 2, expire: Date.now() + 600_000 },
      { key: 'login-account:blocked', points: 9, expire: null },
    ]);

    expect(await runJanitor(db.knex, { batchSize: 1 })).toMatchObject({ removed: 2, tables: { rate_limits: 2 } });

    const left: { key: string }[] = await db.knex('rate_limits').select('key').orderBy('key');
    expect(left.map((row) => row.key)).toEqual(['login-account:blocked', 'login-account:running']);
  });

  test('expired consumed markers are removed and live ones kept', async () => {
    const markers = new ConsumedMarkers(db.knex);
    const [old1, old2, fresh] = [randomUUID(), randomUUID(), randomUUID()];
    await markers.mark('AuthorizationCode', old1, new Date(Date.now() - 60_000));
    await markers.mark('AuthorizationCode', old2, new Date(Date.now() - 60_000));
    await markers.mark('AuthorizationCode', fresh, new Date(Date.now() + 600_000));

    expect(await runJanitor(db.knex, { batchSize: 1 })).toMatchObject({ removed: 2, tables: { consumed_markers: 2 } });

    expect(await markers.consumedAt('AuthorizationCode', old1)).toBeUndefined();
    expect(await markers.consumedAt('AuthorizationCode', old2)).toBeUndefined();
    expect(await markers.consumedAt('AuthorizationCode', fresh)).toEqual(expect.any(Number));
  });
});
