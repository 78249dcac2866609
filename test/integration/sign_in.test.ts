import { decodeProtectedHeader } from 'jose';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, findForm, page, type Step } from '../support/user_agent.ts';
import { addGroupMember } from '../../src/admin/account_commands.ts';

const CALLBACK = 'https://portal.example.edu/cb';
let gh: RunningGatehouse;
let web: RegisteredClient;
let portal: RelyingParty;
let aliceSub: string;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  const db = gh.services.database.knex;
  web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CALLBACK], scopes: 'openid profile email groups offline_access' });
  aliceSub = await createPerson(db, { username: 'alice', password: 'correct horse battery', email: 'alice@example.edu', name: 'Alice Liddell', 'given-name': 'Alice', 'family-name': 'Liddell' });
  await createPerson(db, { username: 'bob', password: 'bobs password', email: 'bob@example.edu' });
  await addGroupMember('library-staff', 'alice')(db);
  await addGroupMember('chess-club', 'alice')(db);
  portal = await relyingParty(gh.url, web, CALLBACK);
});
afterAll(() => gh.close());

const html = (step: Step) => page(step).html;

/** Signs in through the login form and returns the next step (consent page or callback). */
async function signIn(browser: UserAgent, url: string, username = 'alice', password = 'correct horse battery'): Promise<Step> {
  const login = await browser.open(url);
  expect(html(login)).toContain('<button type="submit" class="primary">Sign in</button>');
  return browser.submit(login, '/login', { username, password });
}

test('a web app signs a person in: login, consent, RS256 id_token, userinfo claims by scope', async () => {
  const browser = new UserAgent(CALLBACK);
  const request = await portal.begin({ scope: 'openid profile email groups' });
  const consent = await signIn(browser, request.url);
  const page = html(consent);
  for (const [scope, description] of [['openid', 'Sign you in and know who you are'], ['profile', 'Your name and username'], ['email', 'Your email address'], ['groups', 'The names of the groups you belong to']]) {
    expect(page).toContain(`<span class="scope-description">${description}</span> <code class="scope-name">${scope}</code>`);
  }
  const callback = await browser.submit(consent, '/confirm');
  expect(callback.kind).toBe('callback');

  const tokens = await portal.finish(callback.url, request);
  expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
  expect(tokens.claims()).toMatchObject({ sub: aliceSub, iss: gh.url, aud: web.client_id });
  expect(tokens.refresh_token).toBeUndefined();
  const userinfo = await oidc.fetchUserInfo(portal.config, tokens.access_token, aliceSub);
  expect(userinfo).toEqual({
    sub: aliceSub,
    name: 'Alice Liddell',
    given_name: 'Alice',
    family_name: 'Liddell',
    preferred_username: 'alice',
    email: 'alice@example.edu',
    email_verified: true,
    groups: ['chess-club', 'library-staff'],
  });
});

test('userinfo releases only the claims of the scopes granted', async () => {
  const browser = new UserAgent(CALLBACK);
  const request = await portal.begin({ scope: 'openid email' });
  const callback = await browser.submit(await signIn(browser, request.url, 'bob', 'bobs password'), '/confirm');
  const tokens = await portal.finish(callback.url, request);
  const userinfo = await oidc.fetchUserInfo(portal.config, tokens.access_token, oidc.skipSubjectCheck);
  expect(userinfo).toEqual({ sub: expect.any(String), email: 'bob@example.edu', email_verified: true });
});

test('consent is remembered: the next login in a new browser session does not ask again', async () => {
  const first = new UserAgent(CALLBACK);
  const request = await portal.begin({ scope: 'openid profile' });
  await first.submit(await signIn(first, request.url, 'bob', 'bobs password'), '/confirm');

  const second = new UserAgent(CALLBACK);
  const again = await portal.begin({ scope: 'openid profile' });
  const callback = await signIn(second, again.url, 'bob', 'bobs password');
  expect(callback.kind).toBe('callback');
  expect((await portal.finish(callback.url, again)).claims()!.sub).toEqual(expect.any(String));
});

test('the consent page says how long the answer is kept, and that offline access outlives signing out', async () => {
  const online = html(await signIn(new UserAgent(CALLBACK), (await portal.begin({ scope: 'openid email', prompt: 'consent' })).url));
  expect(online).toContain('If you allow, Gatehouse remembers it for 30 days and does not ask again for these.</p>');
  expect(online).not.toContain('sign out');
  const offline = html(await signIn(new UserAgent(CALLBACK), (await portal.begin({ scope: 'openid offline_access', prompt: 'consent' })).url));
  expect(offline).toContain('<strong>Portal</strong> asks to:');
  expect(offline).toContain('Portal keeps this access when you sign out, until those days are over.');
});

test('within one browser session the person is not asked to sign in again (SSO)', async () => {
  const browser = new UserAgent(CALLBACK);
  const first = await portal.begin({ scope: 'openid' });
  const firstStep = await signIn(browser, first.url);
  if (firstStep.kind === 'page') await browser.submit(firstStep, '/confirm');
  const second = await portal.begin({ scope: 'openid' });
  const step = await browser.open(second.url);
  expect(step.kind).toBe('callback');
});

test('prompt=consent shows the consent page even when consent was given', async () => {
  const browser = new UserAgent(CALLBACK);
  const first = await portal.begin({ scope: 'openid' });
  const firstStep = await signIn(browser, first.url);
  if (firstStep.kind === 'page') await browser.submit(firstStep, '/confirm');
  const forced = await browser.open((await portal.begin({ scope: 'openid', prompt: 'consent' })).url);
  expect(html(forced)).toContain('Allow access?');
});

test('Deny sends the person back to the app with error=access_denied', async () => {
  const browser = new UserAgent(CALLBACK);
  const request = await portal.begin({ scope: 'openid profile email', prompt: 'consent' });
  const callback = await browser.submit(await signIn(browser, request.url, 'bob', 'bobs password'), '/abort');
  expect(callback.kind).toBe('callback');
  const params = new URL(callback.url).searchParams;
  expect(params.get('error')).toBe('access_denied');
  expect(params.get('state')).toBe(request.state);
  await expect(portal.finish(callback.url, request)).rejects.toMatchObject({ error: 'access_denied' });
});

test('a first-party client (--consent skip) never shows the consent page, even with prompt=consent', async () => {
  const db = gh.services.database.knex;
  const intranet = await registerClient(db, { name: 'Intranet', kind: 'web', 'redirect-uri': ['https://intranet.example.edu/cb'], consent: 'skip', scopes: 'openid profile' });
  const rp = await relyingParty(gh.url, intranet, 'https://intranet.example.edu/cb');
  const browser = new UserAgent('https://intranet.example.edu/cb');
  const request = await rp.begin({ scope: 'openid profile', prompt: 'consent' });
  const callback = await signIn(browser, request.url);
  expect(callback.kind).toBe('callback');
  expect((await rp.finish(callback.url, request)).claims()!.sub).toBe(aliceSub);
});

test('prompt=none without a session answers login_required to the app', async () => {
  const browser = new UserAgent(CALLBACK);
  const request = await portal.begin({ prompt: 'none' });
  const callback = await browser.open(request.url);
  expect(callback.kind).toBe('callback');
  expect(new URL(callback.url).searchParams.get('error')).toBe('login_required');
});

test('a wrong password and an unknown user get the same generic message', async () => {
  const pages = [];
  for (const [username, password] of [['alice', 'wrong password'], ['nobody-here', 'whatever pass']] as const) {
    const browser = new UserAgent(CALLBACK);
    const step = await signIn(browser, (await portal.begin()).url, username, password);
    expect(step).toMatchObject({ kind: 'page', status: 401 });
    pages.push(html(step));
  }
  for (const page of pages) expect(page).toContain('The username or password is not correct.');
  expect(pages[0]!.replace(/[\w-]{43}/g, '')).toBe(pages[1]!.replace(/[\w-]{43}/g, '').replace('nobody-here', 'alice'));
});

test('repeated failures for one username from one address are rate limited, even when the right password comes', async () => {
  const db = gh.services.database.knex;
  await createPerson(db, { username: 'carol', password: 'carols password' });
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const browser = new UserAgent(CALLBACK);
    expect(await signIn(browser, (await portal.begin()).url, 'carol', `guess ${attempt}`)).toMatchObject({ status: 401 });
  }
  const browser = new UserAgent(CALLBACK);
  const blocked = await signIn(browser, (await portal.begin()).url, 'carol', 'carols password');
  expect(blocked).toMatchObject({ kind: 'page', status: 429 });
  // The first of the growing waits (README: failed sign-ins are limited).
  expect(html(blocked)).toMatch(/Too many failed attempts\. Try again in [1-5] minutes?\./);
});

test('a login form posted without its CSRF token, or with another interaction\'s, is refused', async () => {
  const browser = new UserAgent(CALLBACK);
  const page = await browser.open((await portal.begin()).url);
  const missing = await browser.submit(page, '/login', { username: 'alice', password: 'correct horse battery', csrf: '' });
  expect(missing).toMatchObject({ kind: 'page', status: 400 });
  expect(html(missing)).toContain('The form expired or did not come from this site. Start again.');

  const other = new UserAgent(CALLBACK);
  const otherPage = await other.open((await portal.begin()).url);
  const foreignToken = findForm(html(otherPage), '/login').hidden.csrf!;
  const page2 = await browser.open((await portal.begin()).url);
  expect(await browser.submit(page2, '/login', { username: 'alice', password: 'correct horse battery', csrf: foreignToken })).toMatchObject({ status: 400 });
});

test('an interaction URL that is not this browser\'s current interaction is refused', async () => {
  const mine = new UserAgent(CALLBACK);
  const myPage = await mine.open((await portal.begin()).url);
  const theirs = new UserAgent(CALLBACK);
  const theirPage = await theirs.open((await portal.begin()).url);
  const theirUid = new URL(theirPage.url).pathname.split('/')[2]!;
  const myUid = new URL(myPage.url).pathname.split('/')[2]!;
  expect(theirUid).not.toBe(myUid);
  // The browser scopes the interaction cookie to its own path: another uid finds no interaction.
  const crossed = await mine.open(theirPage.url);
  expect(crossed).toMatchObject({ kind: 'page', status: 400 });
  expect(html(crossed)).toContain('This sign-in has expired or was opened in another browser.');
  // Even when the cookie does reach another uid's URL (a broader cookie path, a proxy), it is refused.
  const forced = await fetch(theirPage.url, { headers: { accept: 'text/html', cookie: mine.cookieHeader(myPage.url) } });
  expect(forced.status).toBe(400);
  expect(await forced.text()).toContain('This page does not belong to your current sign-in.');
});

test('sign-in pages carry CSP without inline script, frame-ancestors none, no-referrer and no-store', async () => {
  const login = page(await new UserAgent(CALLBACK).open((await portal.begin()).url));
  const csp = login.headers.get('content-security-policy')!;
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self' https://portal.example.edu");
  expect(csp).not.toContain('unsafe-inline');
  expect(login.headers.get('x-frame-options')).toBe('DENY');
  expect(login.headers.get('referrer-policy')).toBe('no-referrer');
  expect(login.headers.get('cache-control')).toBe('no-store');
  expect(login.html).not.toMatch(/<script|\son\w+=/i);
});
