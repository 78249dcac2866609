import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { basic, clientCredentials } from '../support/http.ts';
import { pollUntil } from '../support/poll.ts';
import { updateClient, deleteClient } from '../../src/admin/client_commands.ts';
import { loadScopeCatalogue } from '../../src/storage/enterprise_scopes.ts';
import { createApp } from '../../src/app.ts';
import { createLogger } from '../../src/log.ts';
import { storedId } from '../../src/storage/digested_ids.ts';

let gh: RunningGatehouse;
let server: RegisteredClient;
let web: RegisteredClient;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  const db = gh.services.database.knex;
  server = await registerClient(db, { name: 'Reports job', kind: 'server', scopes: 'auth-none read update' });
  web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': ['https://portal.example.edu/cb'] });
});
afterAll(() => gh.close());

const token = (form: Record<string, string>, client: RegisteredClient = server) =>
  clientCredentials(gh.url, client, form);

test('a server client gets an opaque bearer token carrying the scopes it asked for', async () => {
  const response = await token({ scope: 'auth-none read' });
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'auth-none read', expires_in: 600 });
  expect(response.body.access_token).toEqual(expect.stringMatching(/^[\w-]{43}$/));
  expect(response.body.refresh_token).toBeUndefined();
  expect(response.headers.get('cache-control')).toBe('no-store');
});

test('a scope outside the client\'s allowed scopes is invalid_scope, not silently dropped', async () => {
  const response = await token({ scope: 'read delete' });
  expect(response.status).toBe(400);
  expect(response.body).toMatchObject({ error: 'invalid_scope', error_description: 'scope not allowed for this client: delete' });
});

test('an unknown scope is invalid_scope too', async () => {
  const response = await token({ scope: 'read launch-missiles' });
  expect(response.body.error).toBe('invalid_scope');
});

test('a wrong secret is invalid_client with 401', async () => {
  const response = await clientCredentials(gh.url, basic(server.client_id, 'not-the-secret'));
  expect(response.status).toBe(401);
  expect(response.body.error).toBe('invalid_client');
});

test('a web client may not use client credentials: unauthorized_client', async () => {
  const response = await token({}, web);
  expect(response.status).toBe(400);
  expect(response.body.error).toBe('unauthorized_client');
});

/** The status of the first answer that is not `stale`, polling for at most a second. */
async function settled(request: () => Promise<{ status: number }>, stale: number): Promise<number> {
  return (await pollUntil(request, ({ status }) => status !== stale, 1000, 20)).status;
}

test('a change made by the CLI takes effect at once (cached clients are dropped on NOTIFY), without a restart', async () => {
  const db = gh.services.database.knex;
  const catalogue = await loadScopeCatalogue(db, 'auth-cas');
  const client = await registerClient(db, { name: 'Changing', kind: 'server', scopes: 'read' });
  const auth = basic(client.client_id, client.client_secret);
  const asked = (scope: string, authorization = auth) => clientCredentials(gh.url, authorization, { scope });
  expect((await asked('update')).body.error).toBe('invalid_scope');

  await updateClient(db, catalogue, client.client_id, { scopes: 'read update' });
  expect(await settled(() => asked('update'), 400)).toBe(200);

  const rotated = (await updateClient(db, catalogue, client.client_id, { 'new-secret': true })).json as { client_secret: string };
  expect(await settled(() => asked('read'), 200)).toBe(401);
  expect((await asked('read', basic(client.client_id, rotated.client_secret))).status).toBe(200);

  await deleteClient(db, client.client_id);
  expect(await settled(() => asked('read', basic(client.client_id, rotated.client_secret)), 200)).toBe(401);
});

test('while the provider cannot listen for changes it caches no client at all', async () => {
  const cached = gh.services.clientCache.partition<number>();
  let loads = 0;
  const load = async () => ++loads;
  await cached('some-client', load);
  await cached('some-client', load);
  expect(loads).toBe(1);
  const { ClientCache } = await import('../../src/storage/client_changes.ts');
  const deaf = new ClientCache().partition<number>();
  await deaf('some-client', load);
  await deaf('some-client', load);
  expect(loads).toBe(3);
});

test('two providers on one set of services (as the bench runs them) each get Client objects of their own', async () => {
  // oidc-provider refuses another provider's Client where it issues claims (instanceof provider.Client).
  const second = await createApp({ config: gh.config, logger: createLogger('silent'), ...gh.services });
  const mine = await gh.provider.Client.find(server.client_id);
  const theirs = await second.Client.find(server.client_id);
  expect(mine).toBeInstanceOf(gh.provider.Client);
  expect(theirs).toBeInstanceOf(second.Client);
});

test('client secrets are stored only as digests', async () => {
  const rows: { payload: { client_secret: string } }[] = await gh.services.database.knex('oidc_models').select('payload').where({ model: 'Client', id: server.client_id });
  expect(rows[0]!.payload.client_secret).toMatch(/^sha256\$/);
  expect(JSON.stringify(rows)).not.toContain(server.client_secret);
});

test('the access token is kept in Redis with its lifetime as TTL', async () => {
  const issued = await token({ scope: 'read' });
  const redis = gh.services.redis!;
  const key = `${gh.redisPrefix}AccessToken:${storedId(String(issued.body.access_token))}`;
  expect(await redis.exists(key)).toBe(1);
  const ttl = await redis.ttl(key);
  expect(ttl).toBeGreaterThan(590);
  expect(ttl).toBeLessThanOrEqual(600);
});
