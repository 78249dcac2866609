import { createPerson } from '../support/accounts.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { startCoursesApi, type RunningCoursesApi } from '../support/courses_api.ts';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { basic, clientCredentials, postForm, toJson } from '../support/http.ts';
import { pollUntil } from '../support/poll.ts';
import { oidc, relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp_proxy.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import { addGroupMember, removeGroupMember } from '../../src/admin/account_commands.ts';
import { listen } from '../support/listen.ts';
import { sample, samples } from '../support/metrics.ts';
import Koa from 'koa';
import Router from '@koa/router';
import { protect, requirePerson, requireServer, type AuthState } from 'gatehouse/rs';
import { defineScope } from '../../src/admin/scope_commands.ts';

/**
 * Gatehouse and the example courses API (examples/courses-api, on gatehouse/rs) both running.
 * Gatehouse's issuer is a TCP proxy in front of it, so the test can take Gatehouse away from
 * the API. GROUP_CACHE_SECONDS and the kit's cacheSeconds are 1, so changes show within ~2 s.
 */
const CB = 'http://localhost:5173/cb';
const METRICS_TOKEN = 'prometheus-scrapes-with-this-token-0123456789';
let proxy: TcpProxy;
let gh: RunningGatehouse;
let issuer: string;
let api: RunningCoursesApi;
let restrictedApi: RunningCoursesApi;
let spa: RelyingParty;
const clients: Record<string, RegisteredClient> = {};

beforeAll(async () => {
  let gatehousePort = 0;
  proxy = await startTcpProxy('127.0.0.1', () => gatehousePort);
  issuer = `http://127.0.0.1:${proxy.port}`;
  gh = await startGatehouse({ database: 'postgres', redis: true, env: { ISSUER: issuer, GROUP_CACHE_SECONDS: '1', METRICS_TOKEN } });
  gatehousePort = Number(new URL(gh.url).port);
  const db = gh.services.database.knex;
  await defineScope('grades', { group: 'registrar', description: 'See and change grades' }, 'auth-cas')(db);
  await createPerson(db, { username: 'alice', password: 'alice password' });
  await addGroupMember('registrar', 'alice')(db);
  const register = async (name: string, flags: Parameters<typeof registerClient>[1]) => {
    clients[name] = await registerClient(db, { name, ...flags });
  };
  await register('rs', { kind: 'resource-server' });
  await register('admin', { kind: 'server', scopes: 'auth-none read create update delete' });
  await register('reader', { kind: 'server', scopes: 'auth-none read' });
  await register('mitx', { kind: 'server', scopes: 'auth-none read update delete course_org', org: ['course_org=MITx'] });
  // An org value written as SQL: the example must treat it as a value, never as SQL.
  await register('sqlish', { kind: 'server', scopes: 'auth-none read course_org', org: ["course_org=MITx' OR 'x'='x"] });
  await register('registrar', { kind: 'server', scopes: 'auth-none grades' });
  await register('grader', { kind: 'server', scopes: 'auth-none update grades' });
  await register('jwt', { kind: 'server', scopes: 'auth-none read', 'access-token-format': 'jwt' });
  await register('restricted', { kind: 'server', scopes: 'auth-none read', restricted: true });
  await register('spa', { kind: 'spa', 'redirect-uri': [CB], scopes: 'openid auth-cas read update grades' });
  spa = await relyingParty(issuer, clients.spa!, CB);

  const databaseUrl = (gh.config.database as { url: string }).url;
  const rs = { issuer, clientId: clients.rs!.client_id, clientSecret: clients.rs!.client_secret, cacheSeconds: 1 };
  api = await startCoursesApi(databaseUrl, rs);
  restrictedApi = await startCoursesApi(databaseUrl, { ...rs, acceptRestricted: true });
});
afterAll(async () => {
  await api?.close();
  await restrictedApi?.close();
  await gh?.close();
  await proxy?.close();
});

async function serverToken(name: string, scope: string): Promise<string> {
  const response = await clientCredentials(gh.url, clients[name]!, { scope });
  expect(response.status).toBe(200);
  return String(response.body.access_token);
}

/** Alice signs in at the SPA (PKCE, public client) and approves `scope`. */
async function personToken(scope: string): Promise<string> {
  const browser = new UserAgent(CB);
  const request = await spa.begin({ scope });
  const signedIn = await browser.signIn(request.url, 'alice', 'alice password');
  // Scopes Alice approved before are not asked again.
  const callback = signedIn.kind === 'callback' ? signedIn : await browser.submit(page(signedIn), '/confirm');
  if (callback.kind !== 'callback') throw new Error(page(callback).html);
  return (await spa.finish(callback.url, request)).access_token;
}

function call(method: string, path: string, token?: string, body?: unknown, at = api) {
  return fetch(`${at.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  }).then(toJson);
}

async function addCourse(org: string, title: string): Promise<number> {
  const created = await call('POST', '/courses', await serverToken('admin', 'auth-none create'), { org, title });
  expect(created.status).toBe(201);
  return Number(created.body.id);
}

test('a server token with auth-none read lists courses but cannot create one: 403 insufficient_scope naming create', async () => {
  await addCourse('MITx', 'Circuits');
  const token = await serverToken('reader', 'auth-none read');
  const listed = await call('GET', '/courses', token);
  expect(listed.status).toBe(200);
  expect(JSON.parse(listed.text)).toEqual(expect.arrayContaining([expect.objectContaining({ org: 'MITx', title: 'Circuits' })]));
  const created = await call('POST', '/courses', token, { org: 'MITx', title: 'Not allowed' });
  expect(created.status).toBe(403);
  expect(created.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", error_description="the token lacks the scope this request needs: create", scope="create"');
  expect(created.body).toMatchObject({ error: 'insufficient_scope', scope: 'create' });
});

test('a JWT access token is validated locally: it reads and cannot create', async () => {
  const token = await serverToken('jwt', 'auth-none read');
  expect(token.split('.')).toHaveLength(3);
  expect((await call('GET', '/courses', token)).status).toBe(200);
  expect((await call('POST', '/courses', token, { org: 'MITx', title: 'x' })).body.error).toBe('insufficient_scope');
});

test('a person\'s SPA token without update gets 403 insufficient_scope on PATCH; with update the change is made', async () => {
  const id = await addCourse('MITx', 'Signals');
  const readOnly = await personToken('openid auth-cas read');
  const refused = await call('PATCH', `/courses/${id}`, readOnly, { title: 'Signals and Systems' });
  expect(refused.status).toBe(403);
  expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  expect(refused.headers.get('www-authenticate')).toContain('scope="update"');
  const changed = await call('PATCH', `/courses/${id}`, await personToken('openid auth-cas read update'), { title: 'Signals and Systems' });
  expect(changed.status).toBe(200);
  expect(changed.body).toMatchObject({ id, title: 'Signals and Systems' });
});

test('a revoked token is refused within the kit\'s cache bound', async () => {
  const token = await serverToken('reader', 'auth-none read');
  expect((await call('GET', '/courses', token)).status).toBe(200);
  const revoked = await postForm(`${gh.url}/token/revocation`, { token }, basic(clients.reader!.client_id, clients.reader!.client_secret));
  expect(revoked.status).toBe(200);
  const started = Date.now();
  const after = await pollUntil(() => call('GET', '/courses', token), (response) => response.status !== 200, 3000, 100);
  expect(after.status).toBe(401);
  expect(after.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  // cacheSeconds 1, and room for a busy machine's round trips (the default bound would be 30 s).
  expect(Date.now() - started).toBeLessThan(2000);
});

test('a person removed from an enterprise scope\'s group loses the route within the group cache plus the kit\'s cache', async () => {
  const db = gh.services.database.knex;
  const id = await addCourse('MITx', 'Grading');
  const token = await personToken('openid auth-cas read update grades');
  expect((await call('PUT', `/courses/${id}/grades/bob`, token, { grade: 'A' })).status).toBe(200);
  await removeGroupMember('registrar', 'alice')(db);
  const started = Date.now();
  const after = await pollUntil(() => call('PUT', `/courses/${id}/grades/bob`, token, { grade: 'B' }), (response) => response.status !== 200, 5000, 100);
  expect(after.status).toBe(403);
  expect(after.body).toMatchObject({ error: 'insufficient_scope', scope: 'grades' });
  // GROUP_CACHE_SECONDS 1 + cacheSeconds 1, and room for a busy machine's round trips.
  expect(Date.now() - started).toBeLessThan(3000);
  expect((await call('GET', `/courses/${id}/grades`, token)).status).toBe(200);
});

test('a restricted application\'s token is refused by an API that did not opt in and accepted by one that did', async () => {
  const token = await serverToken('restricted', 'auth-none read');
  const refused = await call('GET', '/courses', token);
  expect(refused.status).toBe(401);
  expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  expect((await call('GET', '/courses', token, undefined, restrictedApi)).status).toBe(200);
});

test('a course_org:MITx token sees, changes and deletes only MITx courses', async () => {
  await addCourse('MITx', 'Robotics');
  const harvard = await addCourse('HarvardX', 'Justice');
  const token = await serverToken('mitx', 'auth-none read update delete course_org');
  const listed = await call('GET', '/courses', token);
  const orgs = new Set((JSON.parse(listed.text) as { org: string }[]).map((course) => course.org));
  expect([...orgs]).toEqual(['MITx']);
  expect((await call('PATCH', `/courses/${harvard}`, token, { title: 'Mine now' })).status).toBe(404);
  expect((await call('DELETE', `/courses/${harvard}`, token)).status).toBe(404);
  const robotics = (JSON.parse(listed.text) as { id: number; title: string }[]).find((course) => course.title === 'Robotics')!;
  expect((await call('DELETE', `/courses/${robotics.id}`, token)).status).toBe(204);
  const unfiltered = JSON.parse((await call('GET', '/courses', await serverToken('reader', 'auth-none read'))).text) as { org: string }[];
  expect(unfiltered.map((course) => course.org)).toContain('HarvardX');
});

test('an org filter value that reads as SQL matches no course: the example passes filters as parameters', async () => {
  await addCourse('MITx', 'Quoted');
  const token = await serverToken('sqlish', 'auth-none read course_org');
  const listed = await call('GET', '/courses', token);
  expect(listed.status).toBe(200);
  expect(JSON.parse(listed.text)).toEqual([]);
});

test('a NUL byte in a course title, a grade or a student\'s name is a 400 invalid_request saying so, not a 500 from Postgres', async () => {
  const id = await addCourse('MITx', 'Nul');
  const admin = await serverToken('admin', 'auth-none create update');
  const registrar = await serverToken('grader', 'auth-none update grades');
  const answers = [
    await call('POST', '/courses', admin, { org: 'MITx', title: 'a\u0000b' }),
    await call('PATCH', `/courses/${id}`, admin, { title: '\u0000' }),
    await call('PUT', `/courses/${id}/grades/bob`, registrar, { grade: 'A\u0000' }),
    await call('PUT', `/courses/${id}/grades/bob%00`, registrar, { grade: 'A' }),
  ];
  for (const answer of answers) {
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('NUL') });
  }
});

test('a request without a bearer token, or with it only in the query string or a form body, gets 401 with a bare challenge', async () => {
  const token = await serverToken('reader', 'auth-none read');
  const attempts = [
    call('GET', '/courses'),
    fetch(`${api.url}/courses?access_token=${token}`).then(toJson),
    fetch(`${api.url}/courses`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${token}` }).then(toJson),
    fetch(`${api.url}/courses`, { headers: { authorization: basic('someone', 'secret') } }).then(toJson),
  ];
  for (const response of await Promise.all(attempts)) {
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.body.error).toBeUndefined();
  }
});

test('a single-page application on another origin may call the API: the preflight needs no token', async () => {
  const origin = 'http://localhost:5173';
  const preflight = await fetch(`${api.url}/courses/1`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization, content-type' } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  expect(preflight.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type');
  const refused = await fetch(`${api.url}/courses`, { headers: { origin } });
  expect(refused.status).toBe(401);
  expect(refused.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');
});

test('a malformed, unknown or foreign token gets 401 invalid_token', async () => {
  const foreign = 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJpc3MiOiJodHRwOi8vZXZpbCIsInNjb3BlIjoicmVhZCJ9.c2lnbmF0dXJl';
  for (const token of ['not a token', 'x'.repeat(43), foreign]) {
    const response = await call('GET', '/courses', token);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
    expect(response.body.error).toBe('invalid_token');
  }
});

test('with Gatehouse unreachable a token the API has not seen gets 503, never a pass; it serves again once Gatehouse is back', async () => {
  const token = await serverToken('reader', 'auth-none read');
  proxy.cut();
  try {
    const response = await call('GET', '/courses', token);
    expect(response.status).toBe(503);
    expect(response.body.error).toBe('temporarily_unavailable');
  } finally {
    proxy.restore();
  }
  expect((await call('GET', '/courses', token)).status).toBe(200);
});

/** How many discovery, introspection and JWKS requests Gatehouse has answered so far, from its /metrics. */
async function gatehouseRequests(): Promise<{ discovery: number; introspection: number; jwks: number }> {
  const all = samples(await (await fetch(`${gh.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text());
  const count = (route: string, method: string) => sample(all, 'gatehouse_http_request_duration_seconds_count', { route, method, status: '200' }) ?? 0;
  return { discovery: count('discovery', 'GET'), introspection: count('introspection', 'POST'), jwks: count('/jwks', 'GET') };
}

test('25 requests at once cost Gatehouse one introspection for one token and one per token for 25 tokens; discovery and the JWKS are fetched once', async () => {
  const guard = protect({ issuer, clientId: clients.rs!.client_id, clientSecret: clients.rs!.client_secret });
  const koa = new Koa<AuthState>();
  koa.use(guard);
  koa.use((ctx) => {
    ctx.body = { clientId: ctx.state.auth.clientId };
  });
  const app = await listen(koa.callback());
  try {
    const at = (tokens: string[]) => Promise.all(tokens.map((token) => fetch(app.url, { headers: { authorization: `Bearer ${token}` } }).then(toJson)));
    const one = await serverToken('reader', 'auth-none read');
    const many = await Promise.all(Array.from({ length: 25 }, () => serverToken('reader', 'auth-none read')));
    const jwts = await Promise.all(Array.from({ length: 25 }, () => serverToken('jwt', 'auth-none read')));
    const start = await gatehouseRequests();
    const same = await at(Array.from({ length: 25 }, () => one));
    const afterSame = await gatehouseRequests();
    const different = await at(many);
    const afterDifferent = await gatehouseRequests();
    const signed = await at(jwts);
    const afterJwts = await gatehouseRequests();
    expect([...same, ...different, ...signed].map((response) => response.status)).toEqual(Array.from({ length: 75 }, () => 200));
    expect({ discovery: afterSame.discovery - start.discovery, introspection: afterSame.introspection - start.introspection }).toEqual({ discovery: 1, introspection: 1 });
    expect({ discovery: afterDifferent.discovery - afterSame.discovery, introspection: afterDifferent.introspection - afterSame.introspection }).toEqual({ discovery: 0, introspection: 25 });
    expect({ discovery: afterJwts.discovery - afterDifferent.discovery, introspection: afterJwts.introspection - afterDifferent.introspection, jwks: afterJwts.jwks - afterDifferent.jwks }).toEqual({ discovery: 0, introspection: 0, jwks: 1 });
  } finally {
    await app.close();
  }
});

describe('route guards on a koa app of its own', () => {
  let app: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    const guard = protect({ issuer, clientId: clients.rs!.client_id, clientSecret: clients.rs!.client_secret });
    const router = new Router<AuthState>();
    const answer = (ctx: Koa.ParameterizedContext<AuthState>) => {
      ctx.body = ctx.state.auth;
    };
    router.get('/me', guard, requirePerson(), answer);
    router.put('/sync', guard, requireServer(), answer);
    // Reports need the registrar's scope rather than read.
    router.get('/reports', guard.withMethodScopes({ GET: 'grades' }), answer);
    router.all('/anything', guard, answer);
    // No method scope: what is left to refuse a token is the token check itself.
    router.get('/any-scope', protect({ issuer, clientId: clients.rs!.client_id, clientSecret: clients.rs!.client_secret, methodScopes: false }), answer);
    // Waits at most half a second for Gatehouse.
    router.get('/impatient', protect({ issuer, clientId: clients.rs!.client_id, clientSecret: clients.rs!.client_secret, timeoutSeconds: 0.5 }), answer);
    const koa = new Koa<AuthState>();
    koa.use(router.routes());
    app = await listen(koa.callback());
  });
  afterAll(() => app.close());
  const at = (method: string, path: string, token: string) => fetch(`${app.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } }).then(toJson);

  test('requirePerson lets a person signed in with the login scope through and refuses a server, naming the login scope', async () => {
    const person = await at('GET', '/me', await personToken('openid auth-cas read'));
    expect(person.status).toBe(200);
    expect(person.body).toMatchObject({ username: 'alice', user: true, scopes: ['openid', 'auth-cas', 'read'], filters: {} });
    const server = await at('GET', '/me', await serverToken('reader', 'auth-none read'));
    expect(server.status).toBe(403);
    expect(server.body).toMatchObject({ error: 'insufficient_scope', scope: 'auth-cas' });
  });

  test('requireServer lets a client credentials token with auth-none through and refuses a person', async () => {
    const server = await at('PUT', '/sync', await serverToken('admin', 'auth-none update'));
    expect(server.status).toBe(200);
    expect(server.body).toMatchObject({ clientId: clients.admin!.client_id, user: false, scopes: ['auth-none', 'update'] });
    expect(server.body.sub).toBeUndefined();
    const person = await at('PUT', '/sync', await personToken('openid auth-cas read update'));
    expect(person.status).toBe(403);
    expect(person.body).toMatchObject({ error: 'insufficient_scope', scope: 'auth-none' });
  });

  test('a route that overrides the method scope asks for its own scope instead of read', async () => {
    expect((await at('GET', '/reports', await serverToken('reader', 'auth-none read'))).body).toMatchObject({ error: 'insufficient_scope', scope: 'grades' });
    expect((await at('GET', '/reports', await serverToken('registrar', 'auth-none grades'))).status).toBe(200);
  });

  test('a person\'s userinfo-only token (no audience) and a DPoP-bound token sent as Bearer are refused even where no scope is needed', async () => {
    const userinfoOnly = await personToken('openid');
    const refused = await at('GET', '/any-scope', userinfoOnly);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'invalid_token', error_description: 'the token is not meant for this resource server' });

    const reader = clients.reader!;
    const config = new oidc.Configuration(spa.config.serverMetadata(), reader.client_id, reader.client_secret);
    oidc.allowInsecureRequests(config);
    const bound = await oidc.clientCredentialsGrant(config, { scope: 'auth-none read' }, { DPoP: oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair()) });
    expect(bound.token_type).toBe('dpop');
    const stolen = await at('GET', '/any-scope', bound.access_token);
    expect(stolen.status).toBe(401);
    expect(stolen.body).toMatchObject({ error: 'invalid_token', error_description: 'the token is bound to a key and needs a proof of possession' });
    // The same client's plain Bearer token passes: the refusals are about the tokens.
    expect((await at('GET', '/any-scope', await serverToken('reader', 'auth-none read'))).status).toBe(200);
  });

  test('a method with no scope in the mapping is refused with 405 and the methods that are allowed', async () => {
    const response = await at('OPTIONS', '/anything', await serverToken('reader', 'auth-none read'));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST, PUT, PATCH, DELETE');
  });

  test('Gatehouse too slow to answer: 503 once the timeout is up, never a pass', async () => {
    const token = await serverToken('reader', 'auth-none read');
    // Discovery first, so that what hangs is the introspection.
    expect((await at('GET', '/impatient', await serverToken('reader', 'auth-none read'))).status).toBe(200);
    proxy.freeze();
    try {
      const started = Date.now();
      const response = await at('GET', '/impatient', token);
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ error: 'temporarily_unavailable', error_description: 'token introspection did not answer; try again shortly' });
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      proxy.thaw();
    }
  });
});
