import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { basic, clientCredentials, introspect as introspectAt, postForm } from '../support/http.ts';

let gh: RunningGatehouse;
let server: RegisteredClient;
let otherServer: RegisteredClient;
let api: RegisteredClient;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  const db = gh.services.database.knex;
  server = await registerClient(db, { name: 'Nightly sync', kind: 'server', scopes: 'auth-none read' });
  otherServer = await registerClient(db, { name: 'Other job', kind: 'server', scopes: 'read' });
  api = await registerClient(db, { name: 'Course API', kind: 'resource-server' });
});
afterAll(() => gh.close());

async function issue(client: RegisteredClient = server, scope = 'auth-none read'): Promise<string> {
  const response = await clientCredentials(gh.url, client, { scope });
  expect(response.status).toBe(200);
  return String(response.body.access_token);
}

const introspect = (token: string, as: RegisteredClient = api) => introspectAt(gh.url, token, as);

test('a resource server learns that a token is active, its scope, client, issuer and lifetime', async () => {
  const token = await issue();
  const before = Math.floor(Date.now() / 1000);
  const response = await introspect(token);
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({
    active: true,
    scope: 'auth-none read',
    client_id: server.client_id,
    iss: gh.url,
    aud: gh.url,
    token_type: 'Bearer',
  });
  expect(response.body.sub).toBeUndefined();
  expect(Number(response.body.exp) - Number(response.body.iat)).toBe(600);
  expect(Number(response.body.iat)).toBeGreaterThanOrEqual(before - 1);
});

test('a client that is not a registered resource server learns nothing: active false', async () => {
  const token = await issue();
  for (const caller of [server, otherServer]) {
    const response = await introspect(token, caller);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ active: false });
  }
});

test('an unknown or malformed token is simply inactive', async () => {
  for (const token of ['nope', 'x'.repeat(43), '']) {
    const response = await introspect(token);
    if (token === '') {
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    } else {
      expect(response.body).toEqual({ active: false });
    }
  }
});

test('introspection without client authentication is invalid_request, with a wrong secret 401 invalid_client', async () => {
  const token = await issue();
  const anonymous = await postForm(`${gh.url}/token/introspection`, { token });
  expect(anonymous.status).toBe(400);
  expect(anonymous.body.error).toBe('invalid_request');
  const wrong = await postForm(`${gh.url}/token/introspection`, { token }, basic(api.client_id, 'wrong'));
  expect(wrong.status).toBe(401);
  expect(wrong.body.error).toBe('invalid_client');
});

test('the owning client revokes its token and introspection then says inactive', async () => {
  const token = await issue();
  const revoked = await postForm(`${gh.url}/token/revocation`, { token, token_type_hint: 'access_token' }, basic(server.client_id, server.client_secret));
  expect(revoked.status).toBe(200);
  expect((await introspect(token)).body).toEqual({ active: false });
});

test('another client cannot revoke a token it does not own, and the token stays active', async () => {
  const token = await issue();
  const refused = await postForm(`${gh.url}/token/revocation`, { token }, basic(otherServer.client_id, otherServer.client_secret));
  expect(refused.status).toBe(400);
  expect(refused.body).toMatchObject({ error: 'invalid_request', error_description: 'the token was not issued to this client' });
  expect((await introspect(token)).body.active).toBe(true);
});

test('revoking an unknown token succeeds quietly (RFC 7009 §2.2)', async () => {
  const response = await postForm(`${gh.url}/token/revocation`, { token: 'never-issued' }, basic(server.client_id, server.client_secret));
  expect(response.status).toBe(200);
});

test('an unknown token_type_hint value is tolerated (RFC 7009 §2.1)', async () => {
  const token = await issue();
  const response = await postForm(`${gh.url}/token/revocation`, { token, token_type_hint: 'banana' }, basic(server.client_id, server.client_secret));
  expect(response.status).toBe(200);
  expect((await introspect(token)).body).toEqual({ active: false });
});
