import { Provider } from 'oidc-provider';
import type { Context } from 'koa';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';
import { proxyInFront, type TcpProxy } from '../support/tcp_proxy.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { createLogger } from '../../src/log.ts';
import { trackAccountActivity } from '../../src/account/activity.ts';

let testDb: TestDatabase;
let proxy: TcpProxy;
let database: Database;

beforeAll(async () => {
  testDb = await createPostgresDatabase();
  const proxied = await proxyInFront((testDb.config as { url: string }).url);
  proxy = proxied.proxy;
  database = await openDatabase({ kind: 'postgres', url: proxied.url });
});
afterAll(async () => {
  proxy.thaw();
  await database.close();
  await proxy.close();
  await testDb.drop();
});

test('with Postgres not answering, one session\'s 25 requests at once wait for one activity write, log one warning, and the next request of the minute waits for none', async () => {
  const warnings: string[] = [];
  const logger = createLogger('warn', { write: (line: string) => void warnings.push(line) });
  const { activity } = trackAccountActivity(new Provider('https://id.example.edu', {}), database.knex, logger);
  const session = { uid: 'session-uid', accountId: 'account-id', exp: Math.floor(Date.now() / 1000) + 3600 };
  const request = { get: () => 'Mozilla/5.0 Firefox/133.0', ip: '192.0.2.1' } as unknown as Context;
  proxy.freeze();

  await Promise.all(Array.from({ length: 25 }, () => activity.sessionUsed(request, session)));
  expect(warnings.filter((line) => line.includes('account activity not recorded'))).toHaveLength(1);

  const started = performance.now();
  await activity.sessionUsed(request, session);
  expect(performance.now() - started).toBeLessThan(200);
  expect(warnings).toHaveLength(1);
}, 15_000);
