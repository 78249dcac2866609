import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { fillLogin, screenshotPath, startBrowserScene, watchedPage, type BrowserScene } from '../support/browser.ts';

let scene: BrowserScene;
let gh: RunningGatehouse;
let browser: Browser;
let portal: RelyingParty;
let redirectUri: string;

beforeAll(async () => {
  scene = await startBrowserScene();
  ({ gh, browser } = scene);
  redirectUri = `${scene.callback.origin}/cb`;
  const db = gh.services.database.knex;
  const client = await registerClient(db, { name: 'Course Portal', kind: 'web', 'redirect-uri': [redirectUri], scopes: 'openid profile email groups', 'policy-uri': 'https://portal.example.edu/privacy', 'tos-uri': 'https://portal.example.edu/terms' });
  await createPerson(db, { username: 'alice', password: 'correct horse battery', email: 'alice@example.edu', name: 'Alice Liddell' });
  portal = await relyingParty(gh.url, client, redirectUri);
});
afterAll(() => scene?.close());

const newPage = (viewport = { width: 1024, height: 720 }) => watchedPage(browser, gh.url, { viewport });

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await fillLogin(page, 'alice', 'correct horse battery');
}

test('a person signs in, reads the scopes and clicks Allow; the app gets verified tokens', async () => {
  const { page, violations } = await newPage();
  const request = await portal.begin({ scope: 'openid profile email groups' });
  await page.goto(request.url);
  await page.screenshot({ path: screenshotPath('login.png') });
  await fillLogin(page, 'alice', 'correct horse battery');

  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  const scopes = await page.locator('.scopes li').allInnerTexts();
  expect(scopes).toEqual([
    'Sign you in and know who you are openid',
    'Your name and username profile',
    'Your email address email',
    'The names of the groups you belong to groups',
  ]);
  await page.screenshot({ path: screenshotPath('consent.png') });
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${redirectUri}?**`);

  const tokens = await portal.finish(page.url(), request);
  const userinfo = await oidc.fetchUserInfo(portal.config, tokens.access_token, tokens.claims()!.sub);
  expect(userinfo).toMatchObject({ preferred_username: 'alice', name: 'Alice Liddell', email: 'alice@example.edu', groups: [] });
  expect(violations).toEqual([]);
  await page.context().close();
});

test('clicking Deny returns the person to the app with access_denied', async () => {
  const { page } = await newPage();
  const request = await portal.begin({ scope: 'openid email', prompt: 'consent' });
  await signIn(page, request.url);
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(`${redirectUri}?**`);
  expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
  await page.context().close();
});

test('a wrong password shows a generic message on the page', async () => {
  const { page } = await newPage();
  await page.goto((await portal.begin()).url);
  await fillLogin(page, 'alice', 'not it');
  await expect(page.getByRole('alert').innerText()).resolves.toBe('The username or password is not correct.');
  await page.context().close();
});

test('the consent page cannot be framed by another site (clickjacking)', async () => {
  const { page } = await newPage();
  const request = await portal.begin({ scope: 'openid', prompt: 'consent' });
  await signIn(page, request.url);
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  const consentUrl = page.url();
  // A page of the relying party's origin tries to frame the consent page.
  await page.goto(`${scene.callback.origin}/attacker`);
  await page.setContent(`<iframe id="f" src="${consentUrl}" width="600" height="400"></iframe>`);
  await page.waitForTimeout(500);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  const framedText = await frame?.evaluate<string>("document.body ? document.body.innerText : ''").catch(() => '');
  expect(framedText ?? '').not.toContain('Allow access?');
  await page.context().close();
});

test('the pages fit a phone screen without sideways scrolling', async () => {
  const { page } = await newPage({ width: 360, height: 740 });
  const request = await portal.begin({ scope: 'openid profile email groups', prompt: 'consent' });
  await page.goto(request.url);
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
  await page.screenshot({ path: screenshotPath('login-phone.png') });
  await fillLogin(page, 'alice', 'correct horse battery');
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  // prompt=consent lists the whole request, also the scopes approved in an earlier test.
  expect(await page.locator('.scopes li').count()).toBe(4);
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
  const allow = await page.getByRole('button', { name: 'Allow' }).boundingBox();
  expect(allow!.height).toBeGreaterThanOrEqual(40);
  await page.screenshot({ path: screenshotPath('consent-phone.png') });
  await page.context().close();
});
