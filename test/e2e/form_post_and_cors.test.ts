import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import type { RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { fillLogin, startBrowserScene, watchedPage, type BrowserScene } from '../support/browser.ts';
import type { CallbackServer } from '../support/callback_server.ts';
import { UserAgent, page as asPage } from '../support/user_agent.ts';
import { axeViolations } from '../support/accessibility.ts';

let scene: BrowserScene;
let gh: RunningGatehouse;
let browser: Browser;
let callback: CallbackServer;
let portal: RelyingParty;
let redirectUri: string;

beforeAll(async () => {
  scene = await startBrowserScene();
  ({ gh, browser, callback } = scene);
  redirectUri = `${callback.origin}/cb`;
  const db = gh.services.database.knex;
  const client = await registerClient(db, { name: 'Form Post Portal', kind: 'web', 'redirect-uri': [redirectUri], scopes: 'openid profile', consent: 'skip' });
  await createPerson(db, { username: 'alice', password: 'correct horse battery', name: 'Alice Liddell' });
  portal = await relyingParty(gh.url, client, redirectUri);
});
afterAll(() => scene?.close());

const newPage = (options: BrowserContextOptions = {}) => watchedPage(browser, gh.url, options);

/** Signs alice in through the real pages and waits for the form to arrive at the portal by POST. */
async function signInWithFormPost(page: Page, request: { url: string }, submit?: (page: Page) => Promise<void>): Promise<URLSearchParams> {
  const before = callback.posts.length;
  await page.goto(request.url);
  await fillLogin(page, 'alice', 'correct horse battery');
  await submit?.(page);
  await page.waitForURL(redirectUri);
  expect(callback.posts).toHaveLength(before + 1);
  return callback.posts.at(-1)!;
}

test('response_mode=form_post: the browser posts the code to the app by itself, and the page breaks no CSP rule', async () => {
  const { page, violations, failures } = await newPage();
  const request = await portal.begin({ scope: 'openid profile', response_mode: 'form_post' });
  const started = performance.now();
  const posted = await signInWithFormPost(page, request);
  process.stdout.write(`form_post sign-in in Chromium: ${(performance.now() - started).toFixed(0)} ms\n`);
  expect(posted.get('state')).toBe(request.state);
  const tokens = await oidc.authorizationCodeGrant(portal.config, new Request(redirectUri, { method: 'POST', body: posted }), { pkceCodeVerifier: request.verifier, expectedState: request.state });
  expect(tokens.claims()).toMatchObject({ iss: gh.url, aud: portal.config.clientMetadata().client_id });
  expect(violations).toEqual([]);
  expect(failures).toEqual([]);
  await page.context().close();
});

test('every page has an icon, and /favicon.ico answers with it', async () => {
  const icon = await fetch(`${gh.url}/favicon.ico`);
  expect(icon.status).toBe(200);
  expect(icon.headers.get('content-type')).toBe('image/svg+xml');
  expect(await icon.text()).toMatch(/^<svg /);
  const { page } = await newPage();
  await page.goto((await portal.begin({ scope: 'openid' })).url);
  expect(await page.locator('link[rel="icon"]').getAttribute('href')).toBe('/static/favicon.svg');
  expect((await page.request.get(`${gh.url}/static/favicon.svg`)).status()).toBe(200);
  await page.context().close();
});

test('without JavaScript the form_post page shows a Continue button that completes the sign-in', async () => {
  const { page } = await newPage({ javaScriptEnabled: false });
  const request = await portal.begin({ scope: 'openid', response_mode: 'form_post' });
  const posted = await signInWithFormPost(page, request, (p) => p.getByRole('button', { name: 'Continue' }).click());
  expect(posted.get('code')).toEqual(expect.any(String));
  await page.context().close();
});

test('a French browser without JavaScript gets the form_post page in French, and Continuer completes the sign-in', async () => {
  const { page } = await newPage({ javaScriptEnabled: false, locale: 'fr-FR' });
  const request = await portal.begin({ scope: 'openid', response_mode: 'form_post' });
  const before = callback.posts.length;
  await page.goto(request.url);
  await page.getByLabel('Identifiant').fill('alice');
  await page.getByLabel('Mot de passe').fill('correct horse battery');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('button', { name: 'Continuer' }).waitFor({ timeout: 5000 });
  expect(await page.getAttribute('html', 'lang')).toBe('fr');
  expect(await page.locator('body').innerText()).not.toMatch(/JavaScript|Continue\b|Submitting/);
  await page.getByRole('button', { name: 'Continuer' }).click();
  await page.waitForURL(redirectUri);
  expect(callback.posts).toHaveLength(before + 1);
  expect(callback.posts.at(-1)!.get('code')).toEqual(expect.any(String));
  await page.context().close();
});

test('axe-core finds no WCAG 2.1 AA violation on the form_post page', async () => {
  // axe is injected as a script, which the page's CSP (its own script only) would refuse; the app answers its post with 204, so the page stays.
  const { page } = await newPage({ bypassCSP: true });
  await page.route(`${redirectUri}**`, (route) => route.fulfill({ status: 204 }));
  const request = await portal.begin({ scope: 'openid', response_mode: 'form_post' });
  await page.goto(request.url);
  const posted = page.waitForRequest(`${redirectUri}**`);
  await fillLogin(page, 'alice', 'correct horse battery');
  await posted;
  expect(await axeViolations(page)).toEqual([]);
  await page.context().close();
});

test('the form_post page allows exactly its own script and a post to the app\'s origin; other pages allow no script', async () => {
  const request = await portal.begin({ scope: 'openid', response_mode: 'form_post' });
  const agent = new UserAgent(redirectUri);
  const formPage = asPage(await agent.signIn(request.url, 'alice', 'correct horse battery'));
  const csp = formPage.headers.get('content-security-policy')!;
  expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'; /);
  expect(csp).toContain(`form-action ${callback.origin}; `);
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");

  const login = asPage(await new UserAgent(redirectUri).open((await portal.begin({ scope: 'openid' })).url));
  expect(login.headers.get('content-security-policy')).toContain("script-src 'none'");
  const token = await fetch(`${gh.url}/token`, { method: 'POST' });
  expect(token.headers.get('content-security-policy')).toBeNull();
});

test('a page on any origin can read discovery, /jwks and /jwks/restricted (CORS)', async () => {
  const { page } = await newPage();
  await page.goto(`${callback.origin}/spa`);
  const read = (url: string) => page.evaluate(async (target) => {
    const response = await fetch(target);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }, url);
  const discovery = await read(`${gh.url}/.well-known/openid-configuration`);
  expect(discovery.body.issuer).toBe(gh.url);
  for (const path of ['/jwks', '/jwks/restricted']) {
    const jwks = await read(`${gh.url}${path}`);
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toEqual(expect.arrayContaining([expect.objectContaining({ kty: expect.any(String) })]));
  }
  const preflight = await fetch(`${gh.url}/jwks/restricted`, { method: 'OPTIONS', headers: { origin: callback.origin, 'access-control-request-method': 'GET' } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  await page.context().close();
});
