import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { basic, clientCredentialsToken, postForm } from '../support/http.ts';
import { pollUntil } from '../support/poll.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp_proxy.ts';
import { relyingParty, signInTokens } from '../support/relying_party.ts';
import { startDjangoResourceServer, type DjangoResourceServer } from '../support/django_resource_server.ts';
import { addGroupMember, removeGroupMember } from '../../src/admin/account_commands.ts';
import { defineScope } from '../../src/admin/scope_commands.ts';

/**
 * A Django REST framework API as institutions run it, unchanged: Debian's django-oauth-toolkit
 * 1.7 in resource-server mode introspects Gatehouse's opaque tokens with the API's own client
 * credentials, and DRF permissions enforce the scopes (test/interop/django_rs).
 */
const CACHING_SECONDS = 3;
const CB = 'https://portal.example.edu/cb';
let gh: RunningGatehouse;
let django: DjangoResourceServer;
let toGatehouse: TcpProxy;
let reader: RegisteredClient;
let writer: RegisteredClient;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true, env: { GROUP_CACHE_SECONDS: '1' } });
  const db = gh.services.database.knex;
  await defineScope('grades', { group: 'registrar', description: 'See and change grades' }, 'auth-cas')(db);
  const api = await registerClient(db, { name: 'Courses API (Django)', kind: 'resource-server' });
  reader = await registerClient(db, { name: 'Catalogue mirror', kind: 'server', scopes: 'auth-none read' });
  writer = await registerClient(db, { name: 'Registrar sync', kind: 'server', scopes: 'auth-none read create grades' });
  // Django reaches Gatehouse through a proxy the test can cut (an outage).
  toGatehouse = await startTcpProxy('127.0.0.1', Number(new URL(gh.url).port));
  const introspectionUrl = `http://127.0.0.1:${toGatehouse.port}/token/introspection`;
  django = await startDjangoResourceServer({ introspectionUrl, credentials: api, cachingSeconds: CACHING_SECONDS });
  // Django's migrate and gunicorn's start take a few seconds, more on a busy machine.
}, 60_000);
afterAll(async () => {
  await django?.close();
  await toGatehouse?.close();
  await gh?.close();
});

const serverToken = (client: RegisteredClient, scope: string) => clientCredentialsToken(gh.url, client, scope);

/** RFC 7009, by the client the token was issued to. */
async function revoke(client: RegisteredClient, token: string): Promise<void> {
  const response = await postForm(`${gh.url}/token/revocation`, { token, token_type_hint: 'access_token' }, basic(client.client_id, client.client_secret));
  expect(response.status).toBe(200);
}

test('a token with read can GET and not POST; one with create can POST', async () => {
  const read = await serverToken(reader, 'auth-none read');
  expect(await django.call('GET', '/courses', read)).toMatchObject({ status: 200, body: { scope: 'auth-none read', user: null, courses: ['6.001'] } });
  // TokenMatchesOASRequirements refuses with DRF's generic 403 (it names no scope; TokenHasScope does).
  expect(await django.call('POST', '/courses', read, { number: '6.002' })).toMatchObject({ status: 403, body: { detail: 'You do not have permission to perform this action.' } });

  const create = await serverToken(writer, 'auth-none read create');
  expect(await django.call('POST', '/courses', create, { number: '6.002' })).toMatchObject({ status: 201, body: { created: { number: '6.002' } } });
  expect((await django.call('GET', '/courses', create)).status).toBe(200);
});

test('TokenHasScope with an enterprise scope: only a token Gatehouse granted it passes', async () => {
  expect((await django.call('GET', '/grades', await serverToken(writer, 'auth-none grades'))).status).toBe(200);
  expect(await django.call('GET', '/grades', await serverToken(writer, 'auth-none read'))).toMatchObject({ status: 403, body: { required_scopes: ['grades'] } });
});

test('no token, or one Gatehouse does not know: 401 invalid_token', async () => {
  expect((await django.call('GET', '/courses')).status).toBe(401);
  const forged = await django.call('GET', '/courses', 'not-a-token-gatehouse-issued');
  expect(forged.status).toBe(401);
  expect(forged.wwwAuthenticate).toContain('error="invalid_token"');
});

test('a revoked token is refused: at once if Django never saw it, else once its cached introspection lapses', async () => {
  const unseen = await serverToken(reader, 'auth-none read');
  await revoke(reader, unseen);
  expect((await django.call('GET', '/courses', unseen)).status).toBe(401);

  const seen = await serverToken(reader, 'auth-none read');
  expect((await django.call('GET', '/courses', seen)).status).toBe(200);
  await revoke(reader, seen);
  const revokedAt = Date.now();
  // django-oauth-toolkit trusts its stored copy of the introspection answer until
  // RESOURCE_SERVER_TOKEN_CACHING_SECONDS have passed (or the token's exp, if sooner).
  expect((await django.call('GET', '/courses', seen)).status).toBe(200);
  const refused = await pollUntil(() => django.call('GET', '/courses', seen), ({ status }) => status !== 200, (CACHING_SECONDS + 3) * 1000, 100);
  expect(refused.status).toBe(401);
  expect(refused.wwwAuthenticate).toContain('error="invalid_token"');
  expect(Date.now() - revokedAt).toBeLessThan((CACHING_SECONDS + 2) * 1000);
});

test("a person's token: Django sees them as a user named after their Gatehouse username; removed from the group, they lose the enterprise scope once the caches lapse", async () => {
  const db = gh.services.database.knex;
  await createPerson(db, { username: 'alice', password: 'alice password', email: 'alice@example.edu', name: 'Alice Liddell' });
  await addGroupMember('registrar', 'alice')(db);
  const web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], scopes: 'openid read auth-cas grades', consent: 'skip' });
  const portal = await relyingParty(gh.url, web, CB);
  const tokens = await signInTokens(portal, 'alice', 'alice password', 'openid read auth-cas grades');
  expect(await django.call('GET', '/grades', tokens.access_token)).toMatchObject({ status: 200, body: { user: 'alice', scope: 'openid read auth-cas grades' } });
  expect((await django.call('POST', '/courses', tokens.access_token, {})).status).toBe(403);

  await removeGroupMember('registrar', 'alice')(db);
  const removedAt = Date.now();
  // Gatehouse's group cache (1 s here), then DOT's stored copy (CACHING_SECONDS).
  const refused = await pollUntil(() => django.call('GET', '/grades', tokens.access_token), ({ status }) => status !== 200, (CACHING_SECONDS + 4) * 1000, 100);
  expect(refused).toMatchObject({ status: 403, body: { required_scopes: ['grades'] } });
  expect(Date.now() - removedAt).toBeLessThan((1 + CACHING_SECONDS + 2) * 1000);
  expect(await django.call('GET', '/courses', tokens.access_token)).toMatchObject({ status: 200, body: { user: 'alice', scope: 'openid read auth-cas' } });
});

test('Gatehouse unreachable: a token Django holds no copy of is refused as invalid_token (401, not 503)', async () => {
  const token = await serverToken(reader, 'auth-none read');
  toGatehouse.cut();
  try {
    const refused = await django.call('GET', '/courses', token);
    expect(refused.status).toBe(401);
    expect(refused.wwwAuthenticate).toContain('error="invalid_token"');
  } finally {
    toGatehouse.restore();
  }
  expect((await django.call('GET', '/courses', token)).status).toBe(200);
});
