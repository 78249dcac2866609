import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import { clientCredentials, introspect as introspectAt } from '../support/http.ts';
import { addGroupMember, removeGroupMember } from '../../src/admin/account_commands.ts';
import { defineScope } from '../../src/admin/scope_commands.ts';

const CB = 'https://portal.example.edu/cb';
const ALL = 'openid profile auth-cas grades read course_org user_org offline_access';
let gh: RunningGatehouse;
let api: RegisteredClient;
let portal: RelyingParty;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true, env: { GROUP_CACHE_SECONDS: '1' } });
  const db = gh.services.database.knex;
  await defineScope('grades', { group: 'registrar', description: 'See and change your grades' }, 'auth-cas')(db);
  await defineScope('auth-cas', { group: 'active-people', description: 'Sign in' }, 'auth-cas')(db);
  for (const person of ['alice', 'bob', 'carol']) await createPerson(db, { username: person, password: `${person} password` });
  for (const [group, person] of [['active-people', 'alice'], ['active-people', 'bob'], ['active-people', 'carol'], ['registrar', 'alice'], ['registrar', 'carol']]) {
    await addGroupMember(group!, person!)(db);
  }
  api = await registerClient(db, { name: 'Grades API', kind: 'resource-server' });
  const web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], scopes: ALL, org: ['course_org=MITx'] });
  portal = await relyingParty(gh.url, web, CB);
});
afterAll(() => gh.close());

const introspect = async (token: string) => (await introspectAt(gh.url, token, api)).body;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Signs `person` in for `scope`, approving consent; returns the consent page and the tokens. */
async function signIn(person: string, scope: string, rp = portal, extra: Record<string, string> = {}) {
  const browser = new UserAgent(rp.redirectUri);
  const request = await rp.begin({ scope, ...extra });
  const consent = page(await browser.signIn(request.url, person, `${person} password`));
  const callback = await browser.submit(consent, '/confirm');
  if (callback.kind !== 'callback') throw new Error(page(callback).html);
  const error = new URL(callback.url).searchParams.get('error');
  if (error) return { consent, error };
  return { consent, tokens: await rp.finish(callback.url, request) };
}

test('a member gets the enterprise scope; introspection names scope, client, sub, username, filters and more', async () => {
  const { consent, tokens } = await signIn('alice', 'openid auth-cas grades read course_org', portal, { prompt: 'consent' });
  expect(consent.html).toContain('<span class="scope-description">See and change your grades</span> <code class="scope-name">grades</code>');
  expect(tokens!.scope).toBe('openid auth-cas grades read course_org');
  const body = await introspect(tokens!.access_token);
  expect(body).toMatchObject({
    active: true,
    scope: 'openid auth-cas grades read course_org',
    client_id: portal.config.clientMetadata().client_id,
    sub: tokens!.claims()!.sub,
    username: 'alice',
    filters: ['course_org:MITx'],
    iss: gh.url,
    aud: gh.url,
    token_type: 'Bearer',
  });
  expect(Number(body.exp)).toBeGreaterThan(Number(body.iat));
});

test('a non-member is down-scoped: the scope is dropped, not refused, and not shown on the consent page', async () => {
  const { consent, tokens } = await signIn('bob', 'openid auth-cas grades read');
  expect(consent.html).not.toContain('grades');
  expect(consent.html).toContain('<code class="scope-name">read</code>');
  expect(tokens!.scope).toBe('openid auth-cas read');
  expect((await introspect(tokens!.access_token)).scope).toBe('openid auth-cas read');
});

test('an org filter the client has no organization for is dropped', async () => {
  const { tokens } = await signIn('alice', 'openid read user_org course_org', portal, { prompt: 'consent' });
  expect(tokens!.scope).toBe('openid read course_org');
});

test('a scope outside the client\'s allowed scopes, or auth-none in a user flow, is invalid_scope', async () => {
  for (const scope of ['openid read delete', 'openid auth-none']) {
    const request = await portal.begin({ scope });
    const step = await new UserAgent(CB).open(request.url);
    expect(step.kind).toBe('callback');
    expect(new URL(step.url).searchParams.get('error')).toBe('invalid_scope');
  }
});

describe('client credentials', () => {
  let job: RegisteredClient;
  let orgJob: RegisteredClient;
  beforeAll(async () => {
    const db = gh.services.database.knex;
    job = await registerClient(db, { name: 'Job', kind: 'server', scopes: 'auth-none read' });
    orgJob = await registerClient(db, { name: 'Registrar sync', kind: 'server', scopes: 'auth-none grades user_org', org: ['user_org=Harvard'] });
  });
  const token = (client: RegisteredClient, scope: string) => clientCredentials(gh.url, client, { scope });

  test('the login scope is invalid_scope for a server', async () => {
    const response = await token(job, 'auth-cas read');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_scope', error_description: 'scope not allowed for this client: auth-cas' });
  });

  test('an enterprise scope needs the server to be allowed it explicitly', async () => {
    expect((await token(job, 'grades')).body.error).toBe('invalid_scope');
    const granted = await token(orgJob, 'auth-none grades user_org');
    expect(granted.body.scope).toBe('auth-none grades user_org');
    expect(await introspect(String(granted.body.access_token))).toMatchObject({ active: true, scope: 'auth-none grades user_org', filters: ['user_org:Harvard'] });
  });
});

test('membership is live: removed from a group, the scope is gone at the next introspection after the cache; removed from the login group, the token is inactive and cannot be refreshed', async () => {
  const db = gh.services.database.knex;
  const { tokens } = await signIn('carol', 'openid auth-cas grades read offline_access', portal, { prompt: 'consent' });
  expect((await introspect(tokens!.access_token)).scope).toBe('openid auth-cas grades read offline_access');

  await removeGroupMember('registrar', 'carol')(db);
  await sleep(1200);
  expect(await introspect(tokens!.access_token)).toMatchObject({ active: true, scope: 'openid auth-cas read offline_access' });
  const { oidc } = await import('../support/relying_party.ts');
  const refreshed = await oidc.refreshTokenGrant(portal.config, tokens!.refresh_token!);
  expect(refreshed.scope).toBe('openid auth-cas read offline_access');

  await removeGroupMember('active-people', 'carol')(db);
  await sleep(1200);
  expect(await introspect(tokens!.access_token)).toEqual({ active: false });
  await expect(oidc.refreshTokenGrant(portal.config, tokens!.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
});

describe('access token formats', () => {
  const jwks = () => createRemoteJWKSet(new URL(`${gh.url}/jwks`));
  const restrictedJwks = () => createRemoteJWKSet(new URL(`${gh.url}/jwks/restricted`));

  test('opaque by default; --access-token-format jwt gives an RFC 9068 JWT verifiable with /jwks', async () => {
    const db = gh.services.database.knex;
    const client = await registerClient(db, { name: 'JWT app', kind: 'web', 'redirect-uri': ['https://jwt.example.edu/cb'], scopes: ALL, org: ['course_org=MITx'], 'access-token-format': 'jwt', consent: 'skip' });
    const rp = await relyingParty(gh.url, client, 'https://jwt.example.edu/cb');
    const browser = new UserAgent(rp.redirectUri);
    const request = await rp.begin({ scope: 'openid auth-cas read course_org' });
    const callback = await browser.signIn(request.url, 'alice', 'alice password');
    const tokens = await rp.finish(callback.url, request);
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    const { payload } = await jwtVerify(tokens.access_token, jwks(), { issuer: gh.url, audience: gh.url, typ: 'at+jwt' });
    expect(payload).toMatchObject({ scope: 'openid auth-cas read course_org', client_id: client.client_id, sub: tokens.claims()!.sub, filters: ['course_org:MITx'], username: 'alice' });
    await expect(jwtVerify(tokens.access_token, restrictedJwks())).rejects.toThrow();
  });

  test('a restricted application always gets JWTs signed with the restricted key, which /jwks does not publish', async () => {
    const db = gh.services.database.knex;
    const client = await registerClient(db, { name: 'Restricted', kind: 'server', scopes: 'auth-none read', restricted: true });
    const response = await clientCredentials(gh.url, client, { scope: 'read' });
    const token = String(response.body.access_token);
    const { kid } = decodeProtectedHeader(token);
    const main = (await (await fetch(`${gh.url}/jwks`)).json()) as { keys: { kid: string }[] };
    const restricted = (await (await fetch(`${gh.url}/jwks/restricted`)).json()) as { keys: { kid: string; d?: string }[] };
    expect(main.keys.map((k) => k.kid)).not.toContain(kid);
    expect(restricted.keys.map((k) => k.kid)).toContain(kid);
    expect(restricted.keys.every((k) => k.d === undefined)).toBe(true);
    await expect(jwtVerify(token, jwks())).rejects.toThrow();
    const { payload } = await jwtVerify(token, restrictedJwks(), { issuer: gh.url, typ: 'at+jwt' });
    expect(payload).toMatchObject({ scope: 'read', client_id: client.client_id });
    const discovery = (await (await fetch(`${gh.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.restricted_jwks_uri).toBe(`${gh.url}/jwks/restricted`);
  });
});
