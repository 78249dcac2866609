import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp_proxy.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { clientCredentials, introspect as introspectAt, toJson } from '../support/http.ts';
import { pollUntil } from '../support/poll.ts';
import { TEST_REDIS_URL } from '../support/env.ts';

let gh: RunningGatehouse;
let testDb: TestDatabase;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let server: RegisteredClient;
let api: RegisteredClient;

beforeAll(async () => {
  testDb = await createPostgresDatabase();
  const pgUrl = new URL((testDb.config as { url: string }).url);
  pgProxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  const redisUrl = new URL(TEST_REDIS_URL);
  redisProxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
  // Each URL keeps its password; only the address becomes the proxy's.
  pgUrl.host = `127.0.0.1:${pgProxy.port}`;
  redisUrl.host = `127.0.0.1:${redisProxy.port}`;
  gh = await startGatehouse({
    databaseConfig: { kind: 'postgres', url: pgUrl.toString() },
    redisUrl: redisUrl.toString(),
  });
  server = await registerClient(gh.services.database.knex, { name: 'Job', kind: 'server', scopes: 'read' });
  api = await registerClient(gh.services.database.knex, { name: 'API', kind: 'resource-server' });
});
afterAll(async () => {
  await gh.close();
  await Promise.all([pgProxy.close(), redisProxy.close()]);
  await testDb.drop();
});

const token = () => clientCredentials(gh.url, server, { scope: 'read' });
const introspect = (value: string) => introspectAt(gh.url, value, api);

/** Retries until the request succeeds: recovery needs no restart, only the backend back. */
const eventually = <T extends { status: number }>(call: () => Promise<T>) => pollUntil(call, (result) => result.status < 500, 10_000, 200);

function expectUnavailable(response: { status: number; body: Record<string, unknown>; text: string }): void {
  expect(response.status).toBe(503);
  expect(response.body).toEqual({
    error: 'temporarily_unavailable',
    error_description: 'the authorization server is temporarily unavailable, retry later',
  });
}

test('with Postgres down, token and introspection answer 503 temporarily_unavailable, then recover', async () => {
  const issued = String((await token()).body.access_token);
  pgProxy.cut();
  try {
    expectUnavailable(await token());
    expectUnavailable(await introspect(issued));
    const ready = await toJson(await fetch(`${gh.url}/readyz`));
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toEqual({ database: 'unreachable', redis: 'ok' });
  } finally {
    pgProxy.restore();
  }
  expect((await eventually(token)).status).toBe(200);
  expect((await eventually(() => introspect(issued))).body.active).toBe(true);
});

test('with Redis down, issuing answers 503 and stores nothing half-written; after recovery all works', async () => {
  redisProxy.cut();
  try {
    expectUnavailable(await token());
    const ready = await toJson(await fetch(`${gh.url}/readyz`));
    expect(ready.body.checks).toEqual({ database: 'ok', redis: 'unreachable' });
  } finally {
    redisProxy.restore();
  }
  const recovered = await eventually(token);
  expect(recovered.status).toBe(200);
  expect((await introspect(String(recovered.body.access_token))).body.active).toBe(true);
});
