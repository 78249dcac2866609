import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { auth, requiredScopes, scopeIncludesAny } from 'express-oauth2-jwt-bearer';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { clientCredentialsToken } from '../support/http.ts';
import { listen, type Listening } from '../support/listen.ts';
import { relyingParty, signInTokens } from '../support/relying_party.ts';

/**
 * An Express API as institutions write it, unchanged: express-oauth2-jwt-bearer validates
 * Gatehouse's RFC 9068 JWT access tokens (`--access-token-format jwt` clients) with the keys at
 * /jwks, found through discovery, and checks issuer, audience and scopes itself.
 */
const CB = 'https://portal.example.edu/cb';
let gh: RunningGatehouse;
let api: Listening;
let jwtServer: RegisteredClient;
let restricted: RegisteredClient;

/** The API: the issuer URL is Gatehouse's single resource (RFC 8707), so it is every token's `aud`. */
function courses(issuer: string) {
  const app = express();
  const seen = (req: Request, res: Response) => {
    const { sub, client_id, scope, username } = req.auth!.payload;
    res.json({ sub, client_id, scope, username });
  };
  const gatehouse = auth({ issuerBaseURL: issuer, audience: issuer, strict: true });
  app.get('/courses', gatehouse, requiredScopes('read'), seen);
  app.post('/courses', gatehouse, requiredScopes('create'), seen);
  app.get('/reports', gatehouse, scopeIncludesAny('read update'), seen);
  // Misconfigured on purpose: an API that expects another audience, or another issuer.
  app.get('/other-audience', auth({ issuerBaseURL: issuer, audience: 'https://grades.example.edu' }), seen);
  app.get('/other-issuer', auth({ issuer: 'https://login.example.edu', jwksUri: `${issuer}/jwks`, audience: issuer }), seen);
  // An API that opts in to restricted applications' tokens trusts the restricted keys.
  app.get('/restricted/courses', auth({ issuer, jwksUri: `${issuer}/jwks/restricted`, audience: issuer, strict: true }), requiredScopes('read'), seen);
  // The library's errors carry the RFC 6750 challenge in `headers`.
  const refusal: ErrorRequestHandler = (error: { status?: number; code?: string; headers?: Record<string, string> }, _req, res, _next) => {
    res.status(error.status ?? 500).set(error.headers ?? {}).json({ error: error.code ?? 'server_error' });
  };
  app.use(refusal);
  return app;
}

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  const db = gh.services.database.knex;
  jwtServer = await registerClient(db, { name: 'Registrar sync', kind: 'server', scopes: 'auth-none read create', 'access-token-format': 'jwt' });
  restricted = await registerClient(db, { name: 'Restricted app', kind: 'server', scopes: 'auth-none read', restricted: true });
  api = await listen(courses(gh.url));
});
afterAll(async () => {
  await api?.close();
  await gh?.close();
});

const serverToken = (client: RegisteredClient, scope: string) => clientCredentialsToken(gh.url, client, scope);

async function call(method: string, path: string, accessToken: string) {
  const response = await fetch(`${api.url}${path}`, { method, headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
}

test('a JWT with read is accepted for GET; POST needs create: 403 insufficient_scope naming it', async () => {
  const read = await serverToken(jwtServer, 'auth-none read');
  expect(await call('GET', '/courses', read)).toMatchObject({ status: 200, body: { client_id: jwtServer.client_id, scope: 'auth-none read' } });
  expect(await call('GET', '/reports', read)).toMatchObject({ status: 200 });
  const refused = await call('POST', '/courses', read);
  expect(refused).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
  expect(refused.wwwAuthenticate).toContain('error="insufficient_scope"');
  expect(refused.wwwAuthenticate).toContain('scope="create"');

  expect(await call('POST', '/courses', await serverToken(jwtServer, 'auth-none create'))).toMatchObject({ status: 200, body: { scope: 'auth-none create' } });
  // scopeIncludesAny: neither read nor update.
  expect(await call('GET', '/reports', await serverToken(jwtServer, 'auth-none create'))).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
});

test('the audience and the issuer are checked: an API expecting others refuses the token', async () => {
  const read = await serverToken(jwtServer, 'auth-none read');
  for (const path of ['/other-audience', '/other-issuer']) {
    const refused = await call('GET', path, read);
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    expect(refused.wwwAuthenticate).toContain('error="invalid_token"');
  }
});

test("a restricted application's token is refused: its key is not in /jwks; only an API that trusts /jwks/restricted accepts it", async () => {
  const token = await serverToken(restricted, 'auth-none read');
  expect(await call('GET', '/courses', token)).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
  expect(await call('GET', '/restricted/courses', token)).toMatchObject({ status: 200, body: { client_id: restricted.client_id, scope: 'auth-none read' } });
  // And the other way round: the restricted keys are not the main ones.
  expect(await call('GET', '/restricted/courses', await serverToken(jwtServer, 'auth-none read'))).toMatchObject({ status: 401 });
});

test('a tampered JWT is refused', async () => {
  const [header, body, signature] = (await serverToken(jwtServer, 'auth-none read')).split('.');
  const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
  const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'auth-none read create' })).toString('base64url')}.${signature}`;
  expect(await call('POST', '/courses', tampered)).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
});

test("a person's JWT from a sign-in is accepted with their sub and username", async () => {
  const db = gh.services.database.knex;
  const sub = await createPerson(db, { username: 'alice', password: 'alice password', email: 'alice@example.edu', name: 'Alice Liddell' });
  const web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], scopes: 'openid profile read', consent: 'skip', 'access-token-format': 'jwt' });
  const portal = await relyingParty(gh.url, web, CB);
  const tokens = await signInTokens(portal, 'alice', 'alice password', 'openid profile read');
  expect(await call('GET', '/courses', tokens.access_token)).toMatchObject({ status: 200, body: { sub, username: 'alice', client_id: web.client_id, scope: 'openid profile read' } });
});
