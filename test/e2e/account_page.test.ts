import type { Page } from 'playwright-core';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { tokenRequest } from '../support/code_flow.ts';
import { fillLogin, screenshotPath, startBrowserScene, watchedPage, type BrowserScene } from '../support/browser.ts';

let scene: BrowserScene;
const apps: Record<string, { client: RegisteredClient; rp: RelyingParty }> = {};

beforeAll(async () => {
  scene = await startBrowserScene();
  const db = scene.gh.services.database.knex;
  const redirectUri = `${scene.callback.origin}/cb`;
  await createPerson(db, { username: 'alice', password: 'correct horse battery', name: 'Alice Liddell' });
  for (const [name, scopes] of [['Course Portal', 'openid profile email offline_access'], ['Library', 'openid profile offline_access']] as const) {
    const client = await registerClient(db, { name, kind: 'web', 'redirect-uri': [redirectUri], scopes });
    apps[name] = { client, rp: await relyingParty(scene.gh.url, client, redirectUri) };
  }
});
afterAll(() => scene?.close());

/** Allows the app on its consent page (signing in first if the login page shows); returns its refresh token. */
async function allow(page: Page, app: string, scope: string): Promise<string> {
  const { rp } = apps[app]!;
  const request = await rp.begin({ scope, prompt: 'consent' });
  await page.goto(request.url);
  if (await page.getByLabel('Password').isVisible()) await fillLogin(page, 'alice', 'correct horse battery');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${scene.callback.origin}/cb?**`);
  return (await rp.finish(page.url(), request)).refresh_token!;
}

const refresh = (app: string, refreshToken: string) => tokenRequest(scene.gh.url, apps[app]!.client, { grant_type: 'refresh_token', refresh_token: refreshToken });

test('a person removes one of two apps on /account, then signs out everywhere: both browsers get the login page', async () => {
  const here = await watchedPage(scene.browser, scene.gh.url, { viewport: { width: 1024, height: 900 } });
  const portalToken = await allow(here.page, 'Course Portal', 'openid profile email offline_access');
  const libraryToken = await allow(here.page, 'Library', 'openid profile offline_access');

  await here.page.goto(`${scene.gh.url}/account`);
  await here.page.getByRole('heading', { name: 'Your apps' }).waitFor();
  expect(await here.page.locator('#apps-heading ~ ul h3').allInnerTexts()).toEqual(['Course Portal', 'Library']);
  expect(await here.page.locator('.offline').count()).toBe(2);
  await expect(here.page.getByText('Your email address').isVisible()).resolves.toBe(true);
  await here.page.screenshot({ path: screenshotPath('account.png'), fullPage: true });

  await here.page.getByRole('button', { name: 'Remove access for Course Portal' }).click();
  await here.page.getByRole('heading', { name: 'Your apps' }).waitFor();
  expect(await here.page.locator('#apps-heading ~ ul h3').allInnerTexts()).toEqual(['Library']);
  expect((await refresh('Course Portal', portalToken)).body.error).toBe('invalid_grant');
  expect((await refresh('Library', libraryToken)).status).toBe(200);

  // A second browser signs in to the account page itself.
  const there = await watchedPage(scene.browser, scene.gh.url);
  await there.page.goto(`${scene.gh.url}/account`);
  await fillLogin(there.page, 'alice', 'correct horse battery');
  await there.page.getByRole('heading', { name: "Where you're signed in" }).waitFor();
  expect(await there.page.locator('#sessions-heading ~ ul h3').allInnerTexts()).toHaveLength(2);
  await expect(there.page.locator('.badge').innerText()).resolves.toBe('this browser');

  await here.page.reload();
  await here.page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await here.page.getByRole('heading', { name: 'You are signed out' }).waitFor();
  for (const { page } of [here, there]) {
    await page.goto(`${scene.gh.url}/account`);
    await page.getByLabel('Password').waitFor();
  }
  expect([...here.violations, ...there.violations]).toEqual([]);
  expect([...here.failures, ...there.failures]).toEqual([]);
});
