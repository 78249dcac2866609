import { randomUUID } from 'node:crypto';
import { adapterFor } from '../../src/storage/adapter_router.ts';
import { ConsumedMarkers } from '../../src/storage/consumed_markers.ts';
import { storedId } from '../../src/storage/digested_ids.ts';
import { migrateLatest, openDatabase, type Database } from '../../src/storage/database.ts';
import { runJanitor } from '../../src/storage/janitor.ts';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';

// Postgres only: the embedded PGlite runs the same SQL, and starting one costs ~8 s of CPU.
describe('janitor on Postgres', () => {
  let testDb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    testDb = await createPostgresDatabase();
    db = await openDatabase(testDb.config);
    await migrateLatest(db.knex);
  });

  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
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

    expect(await runJanitor(db.knex, 2)).toBe(5);

    const left: { id: string }[] = await db.knex('oidc_models').select('id').whereIn('id', [...expired, storedId(live), 'durable-client']);
    expect(left.map((row) => row.id).sort()).toEqual([storedId(live), 'durable-client'].sort());
    expect(await sessions.find(live)).toMatchObject({ accountId: 'alice' });
    expect(await clients.find('durable-client')).toEqual({ client_id: 'durable-client' });
  });

  test('a batch size that divides the expired rows still removes them all', async () => {
    await insertExpired('AccessToken', 4);
    expect(await runJanitor(db.knex, 2)).toBe(4);
    expect(await runJanitor(db.knex, 2)).toBe(0);
  });

  test('expired consumed markers are removed and live ones kept', async () => {
    const markers = new ConsumedMarkers(db.knex);
    const [old1, old2, fresh] = [randomUUID(), randomUUID(), randomUUID()];
    await markers.mark('AuthorizationCode', old1, new Date(Date.now() - 60_000));
    await markers.mark('AuthorizationCode', old2, new Date(Date.now() - 60_000));
    await markers.mark('AuthorizationCode', fresh, new Date(Date.now() + 600_000));

    expect(await runJanitor(db.knex, 1)).toBe(2);

    expect(await markers.consumedAt('AuthorizationCode', old1)).toBeUndefined();
    expect(await markers.consumedAt('AuthorizationCode', old2)).toBeUndefined();
    expect(await markers.consumedAt('AuthorizationCode', fresh)).toEqual(expect.any(Number));
  });
});
