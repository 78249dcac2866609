import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty } from '../support/relying_party.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import { ClientStore } from '../../src/storage/clients.ts';

const CB = 'https://app.example.edu/cb';
let gh: RunningGatehouse;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: false });
  await createPerson(gh.services.database.knex, { username: 'alice', password: 'correct horse battery' });
});
afterAll(() => gh.close());

test('client_name and login_hint are escaped on the login and consent pages', async () => {
  const db = gh.services.database.knex;
  const client = await registerClient(db, { name: '<script>alert("name")</script>', kind: 'web', 'redirect-uri': [CB], 'logo-uri': 'https://cdn.example.edu/logo.png' });
  const rp = await relyingParty(gh.url, client, CB);
  const browser = new UserAgent(CB);
  const login = page(await browser.open((await rp.begin({ login_hint: '"><img src=x onerror=alert(1)>' })).url));
  expect(login.html).not.toContain('<script>alert');
  expect(login.html).toContain('&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;');
  expect(login.html).not.toContain('<img src=x');
  expect(login.html).toContain('value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"');

  const consent = page(await browser.submit(login, '/login', { username: 'alice', password: 'correct horse battery' }));
  expect(consent.html).toContain('<img class="logo" src="https://cdn.example.edu/logo.png"');
  expect(consent.html).not.toContain('<script>alert');
});

test('a logo that is not https is never put on the page; a script URL makes the client unusable', async () => {
  const db = gh.services.database.knex;
  const client = await registerClient(db, { name: 'Sneaky', kind: 'web', 'redirect-uri': [CB] });
  // Written past the CLI (which refuses both), as if the database had been edited by hand.
  const store = new ClientStore(db);
  const stored = (await store.find(client.client_id))!;
  const rp = await relyingParty(gh.url, client, CB);

  await store.save({ ...stored, logo_uri: 'http://cdn.example.edu/logo.png' });
  const browser = new UserAgent(CB);
  const consent = page(await browser.signIn((await rp.begin({ prompt: 'consent' })).url, 'alice', 'correct horse battery'));
  expect(consent.html).toContain('Allow access?');
  expect(consent.html).not.toContain('class="logo"');

  await store.save({ ...stored, logo_uri: 'javascript:alert(1)' });
  const refused = page(await new UserAgent(CB).open((await rp.begin()).url));
  expect(refused.status).toBe(400);
  expect(refused.html).not.toContain('javascript:');
});
