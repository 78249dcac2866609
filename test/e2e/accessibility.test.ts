import type { BrowserContextOptions, Page } from 'playwright-core';
import type { RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { fillLogin, screenshotPath, startBrowserScene, type BrowserScene } from '../support/browser.ts';
import { axeViolations, focused, layoutProblems } from '../support/accessibility.ts';
import { messagesFor } from '../../src/i18n/messages.ts';

let scene: BrowserScene;
let gh: RunningGatehouse;
let portal: RelyingParty;
let redirectUri: string;
let bobSub: string;

beforeAll(async () => {
  scene = await startBrowserScene();
  gh = scene.gh;
  redirectUri = `${scene.callback.origin}/cb`;
  const db = gh.services.database.knex;
  const client = await registerClient(db, {
    name: 'Course Portal',
    kind: 'web',
    'redirect-uri': [redirectUri],
    scopes: 'openid profile email groups',
    'policy-uri': 'https://portal.example.edu/privacy',
    'tos-uri': 'https://portal.example.edu/terms',
  });
  await createPerson(db, { username: 'alice', password: 'correct horse battery', email: 'alice@example.edu', name: 'Alice Liddell' });
  bobSub = await createPerson(db, { username: 'bob', password: 'bobs password', name: 'Bob Hatter' });
  portal = await relyingParty(gh.url, client, redirectUri);
});
afterAll(() => scene?.close());

async function newPage(options: BrowserContextOptions): Promise<Page> {
  return (await scene.browser.newContext(options)).newPage();
}

/**
 * Every page a person meets, in the order they meet them, with `check` run on each: login,
 * login after a wrong password, consent, consent in French, the account page (with the app just
 * allowed), an error, the sign-out question and the signed-out page.
 */
const PAGES = 8;

async function visitEveryPage(page: Page, check: (name: string) => Promise<void>): Promise<void> {
  await page.goto((await portal.begin({ scope: 'openid profile email groups', prompt: 'consent' })).url);
  await check('login');
  await fillLogin(page, 'alice', 'not it');
  await page.getByRole('alert').waitFor();
  await check('login after a wrong password');
  await fillLogin(page, 'alice', 'correct horse battery');
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  await check('consent');
  await page.goto((await portal.begin({ scope: 'openid profile email groups', prompt: 'consent', ui_locales: 'fr' })).url);
  await page.getByRole('button', { name: 'Autoriser' }).waitFor();
  await check('consent in French');
  await page.getByRole('button', { name: 'Autoriser' }).click();
  await page.waitForURL(`${redirectUri}?**`);
  await page.goto(`${gh.url}/account`);
  await page.getByRole('button', { name: 'Remove access for Course Portal' }).waitFor();
  await check('account');
  await page.goto(`${gh.url}/interaction/not-a-sign-in`);
  await check('error');
  await page.goto(`${gh.url}/session/end`);
  await check('sign out?');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
  await check('signed out');
}

/** What `find` finds wrong on each page a person meets, by page: only the pages with something wrong. */
async function problemsOnEveryPage(page: Page, find: (page: Page) => Promise<string[]>): Promise<Array<[string, string[]]>> {
  const found: Array<[string, string[]]> = [];
  await visitEveryPage(page, async (name) => {
    found.push([name, await find(page)]);
  });
  expect(found).toHaveLength(PAGES);
  await page.context().close();
  return found.filter(([, problems]) => problems.length);
}

// The pages follow the system's light or dark colours (color-scheme: light dark): both are checked.
test.each(['light', 'dark'] as const)('axe-core finds no WCAG 2.1 AA violation on any page, in %s colours', async (colorScheme) => {
  // axe is injected as a script, which the pages' CSP (script-src 'none') would refuse.
  const page = await newPage({ viewport: { width: 1024, height: 720 }, bypassCSP: true, colorScheme });
  expect(await problemsOnEveryPage(page, axeViolations)).toEqual([]);
});

test.each([
  ['at 320 px wide', { viewport: { width: 320, height: 640 } }],
  // A 1280 × 720 window zoomed to 200% lays pages out in 640 × 360 CSS pixels, each drawn twice as large.
  ['at 200% zoom', { viewport: { width: 640, height: 360 }, deviceScaleFactor: 2 }],
])('every page is usable %s: no sideways scrolling, every control shown whole', async (_case, options) => {
  expect(await problemsOnEveryPage(await newPage(options), layoutProblems)).toEqual([]);
});

test('with the keyboard alone a person signs in, allows, and removes the access on /account: Tab reaches every control in order, Enter submits', async () => {
  const page = await newPage({ viewport: { width: 1024, height: 720 } });
  const request = await portal.begin({ scope: 'openid email', prompt: 'consent' });
  await page.goto(request.url);
  const tabOrder = async (count: number) => {
    const order: string[] = [];
    for (let i = 0; i < count; i += 1) {
      await page.keyboard.press('Tab');
      order.push(await focused(page));
    }
    return order;
  };
  // The username field has the focus when the page opens.
  expect(await focused(page)).toBe('Username');
  expect(await tabOrder(4)).toEqual(['Password', 'Sign in', 'Cancel and return to the application', '(nothing)']);
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('Username');
  await page.keyboard.type('alice');
  await page.keyboard.press('Tab');
  await page.keyboard.type('correct horse battery');
  await page.keyboard.press('Enter');

  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  expect(await tabOrder(6)).toEqual(['Not you?', 'Privacy policy', 'Terms of service', 'Deny', 'Allow', `${gh.url}/account`]);
  await page.keyboard.press('Shift+Tab');
  expect(await focused(page)).toBe('Allow');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${redirectUri}?**`);
  expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();

  // The account page: every button in reach, and Enter on Remove access takes the app away.
  await page.goto(`${gh.url}/account`);
  expect(await tabOrder(4)).toEqual(['Remove access', 'Sign out', 'Sign out everywhere', '(nothing)']);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.getByText(messagesFor('en').t('account.noApps')).waitFor();
  await page.context().close();
});

test('in Chromium, "Not you?" brings back the login page and the request completes for the person who signs in', async () => {
  const page = await newPage({ viewport: { width: 1024, height: 720 } });
  const request = await portal.begin({ scope: 'openid profile', prompt: 'consent' });
  await page.goto(request.url);
  await fillLogin(page, 'alice', 'correct horse battery');
  await page.getByText('Signed in as Alice Liddell (alice)').waitFor();
  await page.getByRole('link', { name: 'Not you?' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  // Alice is signed out: a new request in this browser asks who signs in, too.
  const other = await page.context().newPage();
  await other.goto((await portal.begin({ scope: 'openid' })).url);
  await other.getByRole('button', { name: 'Sign in' }).waitFor();
  await other.close();

  await fillLogin(page, 'bob', 'bobs password');
  await page.getByText('Signed in as Bob Hatter (bob)').waitFor();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${redirectUri}?**`);
  const tokens = await portal.finish(page.url(), request);
  expect(tokens.claims()!.sub).toBe(bobSub);
  await page.context().close();
});

test('a French browser reads the pages in French (and the README shows its consent page)', async () => {
  const page = await newPage({ viewport: { width: 1024, height: 720 }, locale: 'fr-FR' });
  await page.goto((await portal.begin({ scope: 'openid profile email groups', prompt: 'consent' })).url);
  expect(await page.getAttribute('html', 'lang')).toBe('fr');
  await page.getByLabel('Identifiant').fill('alice');
  await page.getByLabel('Mot de passe').fill('correct horse battery');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('heading', { name: 'Autoriser l’accès ?' }).waitFor();
  expect(await page.locator('.scope-description').allInnerTexts()).toEqual([
    'Vous connecter et savoir qui vous êtes',
    'Votre nom et votre identifiant',
    'Votre adresse e-mail',
    'Le nom des groupes dont vous faites partie',
  ]);
  await page.screenshot({ path: screenshotPath('consent-fr.png') });
  await page.context().close();
});
