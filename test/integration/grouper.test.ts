import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { startGrouperServer, type GrouperServer } from '../support/grouper_server.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent } from '../support/user_agent.ts';
import { introspect as introspectAt } from '../support/http.ts';
import { defineScope } from '../../src/admin/scope_commands.ts';
import { grouperGroupSource } from '../../src/identity/grouper_client.ts';

const CB = 'https://portal.example.edu/cb';
let grouper: GrouperServer;
let gh: RunningGatehouse;
let portal: RelyingParty;
let api: { client_id: string; client_secret: string };

beforeAll(async () => {
  grouper = await startGrouperServer();
  gh = await startGatehouse({ database: 'postgres', redis: true, env: { GROUPS: 'grouper', GROUPER_URL: grouper.url, GROUP_CACHE_SECONDS: '1' } });
  const db = gh.services.database.knex;
  await defineScope('grades', { group: 'apps:registrar:staff', description: 'See and change grades' }, 'auth-cas')(db);
  await createPerson(db, { username: 'alice', password: 'alice password' });
  grouper.members.set('alice', ['apps:registrar:staff', 'org:library']);
  const web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], scopes: 'openid groups auth-cas grades', consent: 'skip' });
  api = await registerClient(db, { name: 'API', kind: 'resource-server' });
  portal = await relyingParty(gh.url, web, CB);
});
afterAll(async () => {
  await gh.close();
  await grouper.close();
});

test('groups and enterprise scopes come from Grouper WS, and follow its changes after the cache', async () => {
  const browser = new UserAgent(CB);
  const request = await portal.begin({ scope: 'openid groups auth-cas grades' });
  const callback = await browser.signIn(request.url, 'alice', 'alice password');
  const tokens = await portal.finish(callback.url, request);
  expect(tokens.scope).toBe('openid groups auth-cas grades');
  const introspect = async () => (await introspectAt(gh.url, tokens.access_token, api)).body;
  expect(await introspect()).toMatchObject({ active: true, scope: 'openid groups auth-cas grades' });

  grouper.members.set('alice', ['org:library']);
  await new Promise((resolve) => setTimeout(resolve, 1200));
  expect(await introspect()).toMatchObject({ active: true, scope: 'openid groups auth-cas' });
});

test('the Grouper client sends HTTP Basic from the URL and reads SUBJECT_NOT_FOUND as no groups', async () => {
  const source = grouperGroupSource(grouper.url);
  grouper.members.set('bob', ['a:b']);
  expect(await source.groupsOf('bob')).toEqual(['a:b']);
  expect(await source.groupsOf('nobody-by-that-name')).toEqual([]);
});

test('a Grouper that refuses or is down fails closed with 503 temporarily_unavailable', async () => {
  const wrongPassword = grouperGroupSource(grouper.url.replace('s3cret', 'wrong'));
  await expect(wrongPassword.groupsOf('alice')).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' });
  const down = grouperGroupSource('http://127.0.0.1:1/grouper-ws/servicesRest');
  await expect(down.groupsOf('alice')).rejects.toMatchObject({ status: 503 });
});

test('userinfo groups claim lists the Grouper groups', async () => {
  const browser = new UserAgent(CB);
  grouper.members.set('alice', ['apps:registrar:staff', 'org:library']);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const request = await portal.begin({ scope: 'openid groups' });
  const callback = await browser.signIn(request.url, 'alice', 'alice password');
  const tokens = await portal.finish(callback.url, request);
  const userinfo = await oidc.fetchUserInfo(portal.config, tokens.access_token, oidc.skipSubjectCheck);
  expect(userinfo.groups).toEqual(['apps:registrar:staff', 'org:library']);
});
