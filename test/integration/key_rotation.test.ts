import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty } from '../support/relying_party.ts';
import { UserAgent } from '../support/user_agent.ts';
import { clientCredentials } from '../support/http.ts';
import { gatehouse } from '../support/cli.ts';
import { pollUntil } from '../support/poll.ts';

// Long enough that the checks made between a rotation and its activation finish within it.
const ACTIVATION_DELAY_SECONDS = 5;
const WEB_CB = 'https://portal.example.edu/cb';
const env = { KEY_ACTIVATION_DELAY_SECONDS: String(ACTIVATION_DELAY_SECONDS) };
let a: RunningGatehouse;
let b: RunningGatehouse;
let web: RegisteredClient;
let server: RegisteredClient;
let restricted: RegisteredClient;

beforeAll(async () => {
  a = await startGatehouse({ database: 'postgres', redis: true, env });
  b = await startGatehouse({ databaseConfig: a.config.database, redis: true, env });
  const db = a.services.database.knex;
  web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [WEB_CB], scopes: 'openid profile', consent: 'skip' });
  server = await registerClient(db, { name: 'Reports', kind: 'server', scopes: 'auth-none read', 'access-token-format': 'jwt' });
  restricted = await registerClient(db, { name: 'Restricted', kind: 'server', scopes: 'auth-none read', restricted: true });
  await createPerson(db, { username: 'alice', password: 'correct horse battery' });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

interface Tokens {
  idToken: string;
  accessToken: string;
  restrictedToken: string;
}

/** An id_token from a real sign-in, a JWT access token and a restricted one, all from one instance. */
async function tokensFrom(gh: RunningGatehouse): Promise<Tokens> {
  const rp = await relyingParty(gh.url, web, WEB_CB);
  const request = await rp.begin();
  const callback = await new UserAgent(WEB_CB).signIn(request.url, 'alice', 'correct horse battery');
  if (callback.kind !== 'callback') throw new Error(`expected the callback, got ${callback.url}`);
  const { id_token: idToken } = await rp.finish(callback.url, request);
  const accessToken = String((await clientCredentials(gh.url, server, { scope: 'read' })).body.access_token);
  const restrictedToken = String((await clientCredentials(gh.url, restricted, { scope: 'read' })).body.access_token);
  return { idToken: idToken!, accessToken, restrictedToken };
}

/** What a resource server holds after fetching both JWKS from an instance at this moment. */
async function fetchJwks(gh: RunningGatehouse): Promise<{ main: JSONWebKeySet; restricted: JSONWebKeySet }> {
  const get = async (path: string) => (await (await fetch(`${gh.url}${path}`)).json()) as JSONWebKeySet;
  return { main: await get('/jwks'), restricted: await get('/jwks/restricted') };
}

/** Each token verifies with the keys fetched earlier: the main JWKS for two, the restricted one for the third. */
async function expectVerified(tokens: Tokens, jwks: { main: JSONWebKeySet; restricted: JSONWebKeySet }, issuer: string): Promise<void> {
  await jwtVerify(tokens.idToken, createLocalJWKSet(jwks.main), { issuer, audience: web.client_id });
  await jwtVerify(tokens.accessToken, createLocalJWKSet(jwks.main), { issuer, typ: 'at+jwt' });
  await jwtVerify(tokens.restrictedToken, createLocalJWKSet(jwks.restricted), { issuer, typ: 'at+jwt' });
}

const kids = (tokens: Tokens) => [tokens.idToken, tokens.accessToken, tokens.restrictedToken].map((token) => decodeProtectedHeader(token).kid);
const published = (jwks: JSONWebKeySet) => jwks.keys.map((key) => key.kid);

test('tokens signed before, during and after a rotation verify against the JWKS fetched at that moment, at both instances', async () => {
  const cli = { DATABASE_URL: (a.config.database as { url: string }).url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY, ...env };
  const before = { jwks: await fetchJwks(b), tokens: await tokensFrom(a) };
  await expectVerified(before.tokens, before.jwks, a.url);

  const rotations = [await gatehouse(['keys', 'rotate', '--json'], cli), await gatehouse(['keys', 'rotate', '--restricted', '--json'], cli)];
  type Rotation = { kid: string; alg: string; keys: { kid: string; purpose: string; alg: string; activates_at: string }[] };
  const printed = rotations.map((run) => JSON.parse(run.stdout) as Rotation);
  // The new key (DESIGN.md: keys rotate --json prints its kid and activates_at) is the RS256 one.
  expect(printed.map((rotation) => rotation.kid)).toEqual(printed.map((rotation) => rotation.keys.find((key) => key.alg === 'RS256')!.kid));
  const created = printed.flatMap((rotation) => rotation.keys);
  const newKid = (purpose: string) => created.find((key) => key.purpose === purpose && key.alg === 'RS256')!.kid;
  expect(created.map((key) => `${key.purpose} ${key.alg}`).sort()).toEqual(['main ES256', 'main RS256', 'restricted ES256', 'restricted RS256']);

  // Published at once by both instances (told by NOTIFY, no restart) ...
  for (const gh of [a, b]) {
    const jwks = await pollUntil(() => fetchJwks(gh), (j) => published(j.main).includes(newKid('main')) && published(j.restricted).includes(newKid('restricted')), 5000);
    expect(published(jwks.main)).toContain(newKid('main'));
    expect(published(jwks.restricted)).toContain(newKid('restricted'));
    expect(published(jwks.main)).not.toContain(newKid('restricted'));
  }
  const listed = JSON.parse((await gatehouse(['keys', 'list', '--json'], cli)).stdout) as { kid: string; state: string }[];
  expect(listed.filter((key) => created.some((c) => c.kid === key.kid)).map((key) => key.state)).toEqual(['next', 'next', 'next', 'next']);

  // ... but nobody signs with them yet, so a resource server that fetched before the rotation still verifies everything.
  const during = { jwks: await fetchJwks(a), tokens: await tokensFrom(b) };
  expect(kids(during.tokens)).toEqual(kids(before.tokens));
  await expectVerified(during.tokens, before.jwks, b.url);

  // Once active, both instances sign with the new keys, which the JWKS fetched during the delay already holds.
  const signingKid = async (gh: RunningGatehouse, client: RegisteredClient, purpose: string) => decodeProtectedHeader(String((await pollUntil(
    () => clientCredentials(gh.url, client, { scope: 'read' }),
    (response) => decodeProtectedHeader(String(response.body.access_token)).kid === newKid(purpose),
    (ACTIVATION_DELAY_SECONDS + 5) * 1000,
    200,
  )).body.access_token)).kid;
  for (const gh of [a, b]) {
    expect(await signingKid(gh, server, 'main')).toBe(newKid('main'));
    expect(await signingKid(gh, restricted, 'restricted')).toBe(newKid('restricted'));
  }
  const after = { jwks: await fetchJwks(a), tokens: await tokensFrom(b) };
  expect(kids(after.tokens)).toEqual([newKid('main'), newKid('main'), newKid('restricted')]);
  await expectVerified(after.tokens, during.jwks, b.url);
  // The retired keys stay published: tokens they signed are still alive.
  await expectVerified(before.tokens, after.jwks, a.url);
  await expect(jwtVerify(after.tokens.accessToken, createLocalJWKSet(before.jwks.main))).rejects.toThrow();

  const states = JSON.parse((await gatehouse(['keys', 'list', '--json'], cli)).stdout) as { kid: string; state: string; published_until: string | null }[];
  const retired = states.filter((key) => kids(before.tokens).includes(key.kid));
  expect(retired.map((key) => key.state)).toEqual(['retired', 'retired']);
  expect(retired.every((key) => key.published_until !== null)).toBe(true);
  expect(states.filter((key) => created.some((c) => c.kid === key.kid)).map((key) => key.state)).toEqual(['active', 'active', 'active', 'active']);

  // An application signing the person out names an id_token from before the rotation: still
  // honoured (this browser has no session left, so the logout goes straight on to its confirmation).
  const logout = await fetch(`${a.url}/session/end?${new URLSearchParams({ id_token_hint: before.tokens.idToken, client_id: web.client_id })}`, { headers: { accept: 'text/html' } });
  expect(logout.status).toBe(200);
  expect(await logout.text()).toContain(`action="${a.url}/session/end/confirm"`);
  const forged = `${before.tokens.idToken.split('.').slice(0, 2).join('.')}.${'A'.repeat(86)}`;
  const refused = await fetch(`${a.url}/session/end?${new URLSearchParams({ id_token_hint: forged, client_id: web.client_id })}`, { headers: { accept: 'text/html' } });
  expect(refused.status).toBe(400);
});
