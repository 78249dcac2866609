import type { Browser, Page } from 'playwright-core';
import { decodeJwt } from 'jose';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { fillLogin, launchChromium } from '../support/browser.ts';
import { startSpa, type Spa } from '../support/spa_server.ts';

// oidc-client-ts (the maintained successor of oidc-client-js) in Chromium, as a SPA on another
// site than Gatehouse: discovery, /jwks, /token and /me are cross-origin fetches. The tests run
// in order, one person's session from sign-in to sign-out.

interface SpaState {
  status: string;
  error?: string;
  name?: string;
  email?: string;
  sub?: string;
  scope?: string;
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
}

let gh: RunningGatehouse;
let browser: Browser;
let spa: Spa;
let page: Page;
/** Requests the browser could not complete (a CORS refusal is one), for every test to check. */
const failedRequests: string[] = [];

beforeAll(async () => {
  // One after the other: when one fails to start, afterAll stops those that did.
  gh = await startGatehouse({ database: 'postgres', redis: true });
  browser = await launchChromium();
  spa = await startSpa();
  const db = gh.services.database.knex;
  const client = await registerClient(db, {
    name: 'Notes',
    kind: 'spa',
    'redirect-uri': [`${spa.origin}/callback`],
    'post-logout-redirect-uri': [`${spa.origin}/signed-out`],
    scopes: 'openid profile email offline_access',
  });
  await createPerson(db, { username: 'alice', password: 'correct horse battery', email: 'alice@example.edu', name: 'Alice Liddell' });
  spa.signInAt(gh.url, client.client_id);
  page = await browser.newPage();
  // A step that waits for the wrong page fails saying what it waited for, before jest's timeout.
  page.setDefaultTimeout(10_000);
  page.on('requestfailed', (request) => failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
});
afterAll(async () => {
  await browser?.close();
  await spa?.close();
  await gh?.close();
});
afterEach(() => expect(failedRequests).toEqual([]));

/** What the SPA shows once it reaches `status`, or its error, whichever comes first. */
async function spaState(status: string): Promise<SpaState> {
  const state = page.locator(`#state[data-status="${status}"], #state[data-status="error"]`);
  const shown = JSON.parse(await state.innerText()) as SpaState;
  expect({ status: shown.status, error: shown.error }).toEqual({ status, error: undefined });
  return shown;
}

let signedIn: SpaState;

test('signinRedirect with PKCE, Gatehouse login and consent, then the SPA shows the profile from userinfo', async () => {
  await page.goto(spa.origin);
  await spaState('signed-out');
  const authorization = page.waitForRequest(`${gh.url}/auth?**`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const authParams = new URL((await authorization).url()).searchParams;
  expect(authParams.get('code_challenge_method')).toBe('S256');
  expect(authParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);

  await fillLogin(page, 'alice', 'correct horse battery');
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  expect(await page.locator('.scopes li').allInnerTexts()).toContain('Keep access while you are away offline_access');
  await page.getByRole('button', { name: 'Allow' }).click();

  signedIn = await spaState('signed-in');
  expect(signedIn).toMatchObject({ name: 'Alice Liddell', email: 'alice@example.edu', scope: expect.stringContaining('offline_access') });
  expect(signedIn.access_token).toBeTruthy();
  expect(signedIn.refresh_token).toBeTruthy();
  // The id_token carries no profile claims for a code flow: the name and email came from /me.
  const idToken = decodeJwt(signedIn.id_token!);
  expect(idToken).toMatchObject({ sub: signedIn.sub, aud: expect.anything() });
  expect(idToken.email).toBeUndefined();
});

test('signinSilent uses the refresh token: a new access token that works, a rotated refresh token, the same person', async () => {
  const tokenRequest = page.waitForRequest(`${gh.url}/token`);
  await page.getByRole('button', { name: 'Renew' }).click();
  expect(new URLSearchParams((await tokenRequest).postData()!).get('grant_type')).toBe('refresh_token');
  const renewed = await spaState('renewed');
  expect(renewed).toMatchObject({ sub: signedIn.sub, name: 'Alice Liddell', email: 'alice@example.edu' });
  expect(renewed.access_token).not.toBe(signedIn.access_token);
  expect(renewed.refresh_token).not.toBe(signedIn.refresh_token);

  const userinfo = await fetch(`${gh.url}/me`, { headers: { authorization: `Bearer ${renewed.access_token}` } });
  expect(userinfo.status).toBe(200);
  expect(await userinfo.json()).toMatchObject({ sub: signedIn.sub, email: 'alice@example.edu' });
});

test('signoutRedirect: Gatehouse asks first, the SPA is signed out, and signing in again needs the password', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
  expect(await page.locator('.lead').innerText()).toBe('Notes asks to sign you out.');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((url) => url.origin === spa.origin && url.pathname === '/signed-out');
  await spaState('signed-out');

  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Password').waitFor();
  expect(page.url()).toMatch(`${gh.url}/interaction/`);
});
