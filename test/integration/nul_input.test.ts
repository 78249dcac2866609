import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty } from '../support/relying_party.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import { basic, postForm, toJson } from '../support/http.ts';

// Postgres stores no NUL in text: a lookup of a value holding one fails inside the database.
const NUL = '\u0000';
const CALLBACK = 'https://portal.example.edu/cb';
const METRICS_TOKEN = 'm'.repeat(40);

let gh: RunningGatehouse;
let server: RegisteredClient;
let api: RegisteredClient;
let web: RegisteredClient;

beforeAll(async () => {
  // Without Redis: every artifact (codes, tokens, interactions) is looked up in Postgres.
  gh = await startGatehouse({ database: 'postgres', redis: false, env: { METRICS_TOKEN } });
  const db = gh.services.database.knex;
  server = await registerClient(db, { name: 'Job', kind: 'server', scopes: 'read' });
  api = await registerClient(db, { name: 'API', kind: 'resource-server' });
  web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CALLBACK], scopes: 'openid offline_access' });
  await createPerson(db, { username: 'alice', password: 'correct horse battery' });
});
afterAll(() => gh.close());

/** gatehouse_server_errors_total as /metrics reports it. */
async function serverErrors(): Promise<number> {
  const text = await (await fetch(`${gh.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  return Number(/^gatehouse_server_errors_total (\d+)/m.exec(text)?.[1]);
}

const token = (form: Record<string, string>, authorization = basic(web.client_id, web.client_secret)) => postForm(`${gh.url}/token`, form, authorization);

/** Each case: the request, and the status and words its answer must have (JSON, or the error page of the authorization endpoint). */
const cases: [string, () => Promise<{ status: number; text: string }>, number, string][] = [
  ['token: client_id in the body', () => postForm(`${gh.url}/token`, { grant_type: 'client_credentials', client_id: `job${NUL}`, client_secret: 'x' }), 401, '"error":"invalid_client"'],
  // oidc-provider refuses a NUL in the Basic credentials as not properly encoded.
  ['token: client id in HTTP Basic', () => postForm(`${gh.url}/token`, { grant_type: 'client_credentials' }, basic(`job${NUL}`, 'x')), 400, '"error":"invalid_request"'],
  ['token: client secret in HTTP Basic', () => postForm(`${gh.url}/token`, { grant_type: 'client_credentials' }, basic(server.client_id, `x${NUL}`)), 400, '"error":"invalid_request"'],
  ['token: authorization code', () => token({ grant_type: 'authorization_code', code: `c${NUL}`, redirect_uri: CALLBACK, code_verifier: 'v'.repeat(43) }), 400, '"error":"invalid_grant"'],
  ['token: refresh token', () => token({ grant_type: 'refresh_token', refresh_token: `r${NUL}` }), 400, '"error":"invalid_grant"'],
  ['introspection: token', () => postForm(`${gh.url}/token/introspection`, { token: `t${NUL}` }, basic(api.client_id, api.client_secret)), 200, '{"active":false}'],
  ['revocation: token', () => postForm(`${gh.url}/token/revocation`, { token: `t${NUL}` }, basic(server.client_id, server.client_secret)), 200, ''],
  ['authorization: client_id', async () => toJson(await fetch(`${gh.url}/auth?client_id=job%00&response_type=code&scope=openid`)), 400, 'invalid_client'],
  ['interaction: uid in the path', async () => toJson(await fetch(`${gh.url}/interaction/a%00b`, { headers: { accept: 'application/json' } })), 400, '"error":"invalid_request"'],
];

test.each(cases)('a NUL byte in the %s is a client error, not a server error', async (_name, send, status, words) => {
  const before = await serverErrors();
  const response = await send();
  expect({ status: response.status, answered: response.text.includes(words) }).toEqual({ status, answered: true });
  expect(await serverErrors()).toBe(before);
});

test('a NUL byte in the username on the login page is refused as invalid_request, and sign-in still works', async () => {
  const portal = await relyingParty(gh.url, web, CALLBACK);
  const browser = new UserAgent(CALLBACK);
  const login = page(await browser.open((await portal.begin()).url));
  const before = await serverErrors();
  const refused = page(await browser.submit(login, '/login', { username: `alice${NUL}`, password: 'correct horse battery' }));
  expect(refused.status).toBe(400);
  expect(refused.html).toContain('invalid_request');
  expect(await serverErrors()).toBe(before);
  const again = page(await browser.open((await portal.begin()).url));
  expect((await browser.submit(again, '/login', { username: 'alice', password: 'correct horse battery' })).kind).toBe('page');
});

test.each(['state', 'nonce', 'login_hint', 'ui_locales', 'acr_values'])('a NUL byte in the authorization request\'s %s is refused as invalid_request, never stored, never a server error', async (parameter) => {
  const portal = await relyingParty(gh.url, web, CALLBACK);
  const before = await serverErrors();
  const step = await new UserAgent(CALLBACK).open((await portal.begin({ [parameter]: `x${NUL}y` })).url);
  // The redirect URI is a registered one, so the error goes back to the client (RFC 6749 §4.1.2.1).
  expect(step.kind).toBe('callback');
  expect(new URL(step.url).searchParams.get('error')).toBe('invalid_request');
  expect(await serverErrors()).toBe(before);
});
