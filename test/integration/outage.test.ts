import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { adminQuery, createPostgresDatabase, type TestDatabase } from '../support/databases.ts';
import { proxyInFront, type TcpProxy } from '../support/tcp_proxy.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty } from '../support/relying_party.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import { basic, clientCredentials, introspect as introspectAt, toJson } from '../support/http.ts';
import { pollUntil } from '../support/poll.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { updateClient } from '../../src/admin/client_commands.ts';
import { loadScopeCatalogue } from '../../src/storage/enterprise_scopes.ts';

let gh: RunningGatehouse;
let testDb: TestDatabase;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let server: RegisteredClient;
let api: RegisteredClient;

beforeAll(async () => {
  testDb = await createPostgresDatabase();
  const postgres = await proxyInFront((testDb.config as { url: string }).url);
  const redis = await proxyInFront(TEST_REDIS_URL);
  pgProxy = postgres.proxy;
  redisProxy = redis.proxy;
  gh = await startGatehouse({ databaseConfig: { kind: 'postgres', url: postgres.url }, redisUrl: redis.url });
  server = await registerClient(gh.services.database.knex, { name: 'Job', kind: 'server', scopes: 'read' });
  api = await registerClient(gh.services.database.knex, { name: 'API', kind: 'resource-server' });
  await createPerson(gh.services.database.knex, { username: 'alice', password: 'correct horse battery' });
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

test('five Postgres outages later, client changes are heard on one LISTEN connection, not on a growing number', async () => {
  const database = new URL((testDb.config as { url: string }).url).pathname.slice(1);
  const listeners = async () => Number((await adminQuery<{ count: string }>(
    `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'`, [database],
  ))[0]!.count);
  for (let outage = 0; outage < 5; outage += 1) {
    pgProxy.cut();
    expect(await pollUntil(listeners, (count) => count === 0, 5000)).toBe(0);
    pgProxy.restore();
    // Back to listening before the next cut, so that each cut drops a live listener.
    expect(await pollUntil(listeners, (count) => count > 0, 10_000)).toBeGreaterThan(0);
  }
  const db = gh.services.database.knex;
  const job = await registerClient(db, { name: 'Changing job', kind: 'server', scopes: 'read' });
  expect((await eventually(() => clientCredentials(gh.url, job, { scope: 'read' }))).status).toBe(200);
  const rotated = (await updateClient(db, await loadScopeCatalogue(db, 'auth-cas'), job.client_id, { 'new-secret': true })).json as { client_secret: string };
  // Heard: the cached client is dropped and the old secret stops working.
  expect((await pollUntil(() => clientCredentials(gh.url, job, { scope: 'read' }), ({ status }) => status === 401, 5000)).status).toBe(401);
  expect((await clientCredentials(gh.url, basic(job.client_id, rotated.client_secret), { scope: 'read' })).status).toBe(200);
  expect(await listeners()).toBe(1);
});

/** An answer as status and text (a JSON error and an HTML error page both name the error code). */
interface Answer {
  status: number;
  text: string;
}

const CALLBACK = 'https://app.example.edu/cb';

/**
 * Everything a client or a person asks, each set up so that it needs the database and Redis
 * (clients not cached yet, a login form not posted yet): the requests to send while a backend
 * is partitioned.
 */
async function requestsNeedingBothBackends(): Promise<Record<string, () => Promise<Answer>>> {
  const db = gh.services.database.knex;
  const job = await registerClient(db, { name: 'Job', kind: 'server', scopes: 'read' });
  const resourceServer = await registerClient(db, { name: 'API', kind: 'resource-server' });
  const web = await registerClient(db, { name: 'App', kind: 'web', 'redirect-uri': [CALLBACK], scopes: 'openid' });
  const app = await relyingParty(gh.url, web, CALLBACK);
  const signIn = new UserAgent(CALLBACK);
  const request = await app.begin();
  const consent = await signIn.submit(await signIn.open(request.url), '/login', { username: 'alice', password: 'correct horse battery' });
  const { access_token: userToken } = await app.finish((await signIn.submit(consent, '/confirm')).url, request);
  const browser = new UserAgent(CALLBACK);
  const login = page(await browser.open((await app.begin()).url));
  const other = await registerClient(db, { name: 'Other app', kind: 'web', 'redirect-uri': [CALLBACK], scopes: 'openid' });
  const authorize = `${gh.url}/auth?${new URLSearchParams({ client_id: other.client_id, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;
  const issued = String((await token()).body.access_token);
  const text = async (response: Promise<Response>) => {
    const got = await response;
    return { status: got.status, text: await got.text() };
  };
  return {
    token: () => clientCredentials(gh.url, job, { scope: 'read' }),
    introspection: () => introspectAt(gh.url, issued, resourceServer),
    userinfo: () => text(fetch(`${gh.url}/me`, { headers: { authorization: `Bearer ${userToken}` } })),
    // Where the client is known, the error goes back to it (RFC 6749 §4.1.2.1), not to the browser.
    authorization: async () => {
      const got = await fetch(authorize, { redirect: 'manual' });
      return { status: got.status, text: `${got.headers.get('location') ?? ''} ${await got.text()}` };
    },
    login: async () => {
      // Signed in, with consent given before: back to the application with a code.
      const step = await browser.submit(login, '/login', { username: 'alice', password: 'correct horse battery' });
      return step.kind === 'page' ? { status: step.status, text: step.html } : { status: 303, text: step.url };
    },
    readyz: () => text(fetch(`${gh.url}/readyz`)),
  };
}

/**
 * Sends every request during a partition, side by side: each must answer 503
 * temporarily_unavailable (a request that hangs fails the test by its timeout).
 */
async function askDuringPartition(proxy: TcpProxy): Promise<Record<string, Answer>> {
  const requests = await requestsNeedingBothBackends();
  proxy.freeze();
  try {
    const names = Object.keys(requests);
    const answers = await Promise.all(names.map((name) => requests[name]!()));
    return Object.fromEntries(names.map((name, i) => [name, { status: answers[i]!.status, text: answers[i]!.text }]));
  } finally {
    proxy.thaw();
  }
}

/** Each answer says temporarily_unavailable (readyz: which backend is unreachable) with the status expected. */
function expectAllUnavailable(answers: Record<string, Answer>, statuses: Record<string, number> = {}): void {
  for (const [name, { status, text }] of Object.entries(answers)) {
    expect({ name, status, unavailable: text.includes(name === 'readyz' ? 'unreachable' : 'temporarily_unavailable') })
      .toEqual({ name, status: statuses[name] ?? 503, unavailable: true });
  }
}

test('in a Postgres partition (connections open, nothing answered) every endpoint answers 503, then recovers without a restart', async () => {
  expectAllUnavailable(await askDuringPartition(pgProxy));
  expect((await eventually(token)).status).toBe(200);
  const recovered = await requestsNeedingBothBackends();
  expect((await recovered.login!()).text).toMatch(/^https:\/\/app\.example\.edu\/cb\?code=/);
});

test('in a Redis partition every endpoint answers 503 instead of hanging, then recovers without a restart', async () => {
  // The new application is known (Postgres answers), so the authorization error is redirected to it.
  expectAllUnavailable(await askDuringPartition(redisProxy), { authorization: 303 });
  expect((await eventually(token)).status).toBe(200);
  const recovered = await requestsNeedingBothBackends();
  expect((await recovered.login!()).text).toMatch(/^https:\/\/app\.example\.edu\/cb\?code=/);
});
