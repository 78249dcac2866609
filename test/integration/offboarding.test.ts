import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page, type Page, type Step } from '../support/user_agent.ts';
import { basic, introspect, postForm } from '../support/http.ts';
import { gatehouse } from '../support/cli.ts';
import { disableAccount, enableAccount } from '../../src/admin/offboarding_commands.ts';
import { listGrants, revokeGrants } from '../../src/admin/grant_commands.ts';
import type { Stores } from '../../src/storage/adapter_router.ts';

const PORTAL_CALLBACK = 'https://portal.example.edu/cb';
const WIKI_CALLBACK = 'https://wiki.example.edu/cb';
const WRONG = 'The username or password is not correct.';
let gh: RunningGatehouse;
let stores: Stores;
let portalClient: RegisteredClient;
let wikiClient: RegisteredClient;
let api: RegisteredClient;
let portal: RelyingParty;
let wiki: RelyingParty;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  const db = gh.services.database.knex;
  stores = { db, redis: gh.services.redis, redisPrefix: gh.redisPrefix };
  portalClient = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [PORTAL_CALLBACK], scopes: 'openid email offline_access' });
  wikiClient = await registerClient(db, { name: 'Wiki', kind: 'web', 'redirect-uri': [WIKI_CALLBACK], scopes: 'openid profile offline_access' });
  api = await registerClient(db, { name: 'Course API', kind: 'resource-server' });
  portal = await relyingParty(gh.url, portalClient, PORTAL_CALLBACK);
  wiki = await relyingParty(gh.url, wikiClient, WIKI_CALLBACK);
  for (const username of ['alice', 'bob', 'carol']) await createPerson(gh.services.database.knex, { username, password: `${username}s password` });
});
afterAll(() => gh.close());

/** Tokens with a refresh token: signs in if the browser has no session yet, and consents. */
async function signedIn(browser: UserAgent, rp: RelyingParty, username: string) {
  const request = await rp.begin({ scope: 'openid offline_access', prompt: 'consent' });
  let step: Step = await browser.open(request.url);
  if (step.kind === 'page' && step.html.includes('>Sign in</button>')) step = await browser.submit(step, '/login', { username, password: `${username}s password` });
  step = await browser.submit(step, '/confirm');
  expect(step.kind).toBe('callback');
  return rp.finish(step.url, request);
}

const refresh = (token: string, client: RegisteredClient, issuer = gh.url) =>
  postForm(`${issuer}/token`, { grant_type: 'refresh_token', refresh_token: token }, basic(client.client_id, client.client_secret));

async function userinfoStatus(accessToken: string): Promise<number> {
  const response = await fetch(portal.config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } });
  return response.status;
}

/** The login form's answer in a fresh browser: the consent page once signed in, else the form with its message. */
async function signInAnswer(username: string, password: string): Promise<Page> {
  const browser = new UserAgent(PORTAL_CALLBACK);
  const login = page(await browser.open((await portal.begin({ scope: 'openid' })).url));
  return page(await browser.submit(login, '/login', { username, password }));
}

const ALLOW = '<button type="submit" class="primary">Allow</button>';

test('disabling an account ends its tokens and sessions at once and refuses sign-in; enabling lets the person in again', async () => {
  const browser = new UserAgent(PORTAL_CALLBACK);
  const tokens = await signedIn(browser, portal, 'alice');
  expect(tokens.refresh_token).toEqual(expect.any(String));
  expect((await introspect(gh.url, tokens.access_token, api)).body).toMatchObject({ active: true });
  expect(await userinfoStatus(tokens.access_token)).toBe(200);

  // Looked up by its normalised key, as sign-in does.
  const disabled = await disableAccount(stores.db, async () => stores, 'ALICE');
  expect(disabled.json).toMatchObject({ username: 'alice', disabled: true, grants_revoked: 1, sessions_ended: 1 });

  expect((await introspect(gh.url, tokens.access_token, api)).body).toEqual({ active: false });
  const refused = await refresh(tokens.refresh_token!, portalClient);
  expect(refused.status).toBe(400);
  expect(refused.body.error).toBe('invalid_grant');
  expect(await userinfoStatus(tokens.access_token)).toBe(401);
  // The browser's session is gone: the next request asks for a sign-in, which is refused as a wrong password is.
  const again = page(await browser.open((await portal.begin({ scope: 'openid' })).url));
  expect(again.html).toContain('Sign in');
  const answer = page(await browser.submit(again, '/login', { username: 'alice', password: 'alices password' }));
  expect(answer.status).toBe(401);
  expect(answer.html).toContain(WRONG);

  await enableAccount(stores, 'alice');
  expect((await signInAnswer('alice', 'alices password')).html).toContain(ALLOW);
  // What disabling revoked stays revoked.
  expect((await refresh(tokens.refresh_token!, portalClient)).body.error).toBe('invalid_grant');
});

test('accounts set-password (the real CLI, password on stdin): the old password is refused, the new one works', async () => {
  const env = { DATABASE_URL: (gh.config.database as { url: string }).url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
  const run = await gatehouse(['accounts', 'set-password', 'Bob', '--password-stdin', '--json'], env, 'a new long password\n');
  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(run.stdout)).toMatchObject({ username: 'bob', password_changed: true });

  const old = await signInAnswer('bob', 'bobs password');
  expect(old.status).toBe(401);
  expect(old.html).toContain(WRONG);
  expect((await signInAnswer('bob', 'a new long password')).html).toContain(ALLOW);

  const tooShort = await gatehouse(['accounts', 'set-password', 'bob', '--password-stdin'], env, 'short\n');
  expect(tooShort).toMatchObject({ code: 2, stderr: 'gatehouse: --password must have at least 8 characters\n' });
  const nobody = await gatehouse(['accounts', 'set-password', 'nobody', '--password-stdin'], env, 'a new long password\n');
  expect(nobody).toMatchObject({ code: 2, stderr: 'gatehouse: no account named nobody\n' });
});

test('grants list shows each client a person allowed; grants revoke --client ends that client\'s tokens only', async () => {
  const browser = new UserAgent(PORTAL_CALLBACK, WIKI_CALLBACK);
  const atPortal = await signedIn(browser, portal, 'carol');
  const atWiki = await signedIn(browser, wiki, 'carol');

  const listed = (await listGrants(gh.services.database.knex, { user: 'carol' })).json as Record<string, unknown>[];
  expect(listed).toEqual([
    { client_id: portalClient.client_id, client_name: 'Portal', scopes: ['openid', 'offline_access'], created_at: expect.any(String), expires_at: expect.any(String) },
    { client_id: wikiClient.client_id, client_name: 'Wiki', scopes: ['openid', 'offline_access'], created_at: expect.any(String), expires_at: expect.any(String) },
  ]);
  expect(Date.parse(String(listed[0]!.expires_at))).toBeGreaterThan(Date.parse(String(listed[0]!.created_at)));
  expect((await listGrants(gh.services.database.knex, { user: 'carol', client: wikiClient.client_id })).json).toEqual([listed[1]]);

  expect((await revokeGrants(stores, { user: 'carol', client: wikiClient.client_id })).json).toMatchObject({ revoked: 1 });
  expect((await introspect(gh.url, atWiki.access_token, api)).body).toEqual({ active: false });
  expect((await refresh(atWiki.refresh_token!, wikiClient)).body.error).toBe('invalid_grant');
  expect((await introspect(gh.url, atPortal.access_token, api)).body).toMatchObject({ active: true });
  expect((await refresh(atPortal.refresh_token!, portalClient)).status).toBe(200);
  expect((await listGrants(gh.services.database.knex, { user: 'carol' })).json).toEqual([expect.objectContaining({ client_name: 'Portal' })]);
});

test('grants list --json of an unknown user is a usage error from the real CLI', async () => {
  const env = { DATABASE_URL: (gh.config.database as { url: string }).url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
  expect(await gatehouse(['grants', 'list', '--user', 'nobody', '--json'], env)).toMatchObject({ code: 2, stdout: '', stderr: 'gatehouse: no account named nobody\n' });
  expect(await gatehouse(['grants', 'list', '--json'], env)).toMatchObject({ code: 2, stderr: 'gatehouse: usage: gatehouse grants list --user U [--client C]\n' });
});

describe('without Redis, through the real CLI', () => {
  let sqlOnly: RunningGatehouse;

  beforeAll(async () => { sqlOnly = await startGatehouse({ database: 'postgres', redis: false }); });
  afterAll(() => sqlOnly.close());

  test('accounts disable ends the sessions and tokens kept in Postgres', async () => {
    const db = sqlOnly.services.database.knex;
    const client = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [PORTAL_CALLBACK], scopes: 'openid offline_access' });
    const resourceServer = await registerClient(db, { name: 'Course API', kind: 'resource-server' });
    await createPerson(db, { username: 'dave', password: 'daves password' });
    const rp = await relyingParty(sqlOnly.url, client, PORTAL_CALLBACK);
    const browser = new UserAgent(PORTAL_CALLBACK);
    const tokens = await signedIn(browser, rp, 'dave');

    const env = { DATABASE_URL: (sqlOnly.config.database as { url: string }).url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
    const run = await gatehouse(['accounts', 'disable', 'dave', '--json'], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ username: 'dave', disabled: true, grants_revoked: 1, sessions_ended: 1 });

    expect((await introspect(sqlOnly.url, tokens.access_token, resourceServer)).body).toEqual({ active: false });
    expect((await refresh(tokens.refresh_token!, client, sqlOnly.url)).body.error).toBe('invalid_grant');
    expect(page(await browser.open((await rp.begin({ scope: 'openid' })).url)).html).toContain('>Sign in</button>');
  });
});
