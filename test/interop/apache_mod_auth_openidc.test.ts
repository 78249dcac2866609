import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { fillLogin, launchChromium } from '../support/browser.ts';
import { startApache, type ApacheSite, type RunningApache } from '../support/apache.ts';

/**
 * Debian's Apache with mod_auth_openidc as the relying party: it protects /app, where a CGI
 * prints the environment the module hands to applications (OIDC_CLAIM_*, OIDC_access_token).
 */
let gh: RunningGatehouse;
let browser: Browser;
let apache: RunningApache;
let sub: string;

beforeAll(async () => {
  // Each is kept as soon as it is up, so that afterAll closes it even when the other fails to
  // start (a Chromium left open keeps jest from ever exiting).
  const started = await Promise.allSettled([
    startGatehouse({ database: 'postgres', redis: true }).then((running) => (gh = running)),
    launchChromium().then((launched) => (browser = launched)),
  ]);
  for (const result of started) if (result.status === 'rejected') throw result.reason;
  const db = gh.services.database.knex;
  sub = await createPerson(db, { username: 'alice', password: 'correct horse battery', email: 'alice@example.edu', name: 'Alice Liddell' });
  apache = await startApache(['authn_core', 'authz_core', 'authz_user', 'alias', 'cgid', 'auth_openidc'], intranet);
});
afterAll(async () => {
  await apache?.close();
  await browser?.close();
  await gh?.close();
});

/** Registers the intranet at Gatehouse as an operator would, and writes its Apache configuration. */
async function intranet({ origin, dir }: ApacheSite): Promise<string> {
  const client = await registerClient(gh.services.database.knex, {
    name: 'Staff intranet',
    kind: 'web',
    'redirect-uri': [`${origin}/app/redirect_uri`],
    'post-logout-redirect-uri': [`${origin}/signed-out`],
    'backchannel-logout-uri': `${origin}/app/redirect_uri?logout=backchannel`,
    scopes: 'openid profile email offline_access',
  });
  await writeFile(join(dir, 'env.cgi'), "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nenv\n", { mode: 0o755 });
  await writeFile(join(dir, 'signed-out.cgi'), "#!/bin/sh\nprintf 'Content-Type: text/html\\n\\n<!doctype html><title>Signed out</title><h1>You have signed out of the intranet</h1>'\n", { mode: 0o755 });
  return `
OIDCProviderMetadataURL ${gh.url}/.well-known/openid-configuration
OIDCClientID ${client.client_id}
OIDCClientSecret ${client.client_secret}
OIDCRedirectURI ${origin}/app/redirect_uri
OIDCCryptoPassphrase ${randomBytes(24).toString('hex')}
OIDCProviderTokenEndpointAuth client_secret_basic
OIDCPKCEMethod S256
# oidc-provider grants offline_access (a refresh token) only when consent is asked for.
OIDCScope "openid email profile offline_access"
OIDCAuthRequestParams prompt=consent
OIDCRemoteUserClaim sub
OIDCPassClaimsAs environment
ScriptAlias /app/env ${dir}/env.cgi
ScriptAlias /signed-out ${dir}/signed-out.cgi
<Location /app>
  AuthType openid-connect
  Require valid-user
</Location>`;
}

/** Opens the protected page in a fresh browser, signs in at Gatehouse and allows; returns what the CGI saw. */
async function signIn(): Promise<{ page: Page; env: Record<string, string> }> {
  const context = await browser.newContext();
  // A step that does not come is Playwright's failure, naming what it waited for, before jest's timeout.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.goto(`${apache.origin}/app/env`);
  expect(page.url()).toContain(`${gh.url}/interaction/`);
  await fillLogin(page, 'alice', 'correct horse battery');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${apache.origin}/app/env`);
  return { page, env: await cgiEnvironment(page) };
}

async function cgiEnvironment(page: Page): Promise<Record<string, string>> {
  const text = await page.locator('body').innerText();
  return Object.fromEntries(text.split('\n').filter((line) => line.includes('=')).map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at), line.slice(at + 1)];
  }));
}

function userinfo(accessToken: string): Promise<Response> {
  return fetch(`${gh.url}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
}

/**
 * Apache's answer to a script's request for the protected page with the cookies the browser
 * holds: 200 while the session lives, 401 without one (mod_auth_openidc redirects only navigations).
 */
async function protectedPageStatus(page: Page): Promise<number> {
  const cookie = (await page.context().cookies(apache.origin)).map((c) => `${c.name}=${c.value}`).join('; ');
  const response = await fetch(`${apache.origin}/app/env`, { headers: { cookie }, redirect: 'manual' });
  await response.arrayBuffer();
  return response.status;
}

test('a person signs in through Gatehouse and the protected page sees their claims', async () => {
  const { page, env } = await signIn();
  expect(env).toMatchObject({
    REMOTE_USER: sub,
    OIDC_CLAIM_sub: sub,
    OIDC_CLAIM_email: 'alice@example.edu',
    OIDC_CLAIM_name: 'Alice Liddell',
    OIDC_CLAIM_preferred_username: 'alice',
  });
  expect((await userinfo(env.OIDC_access_token!)).status).toBe(200);
  await page.context().close();
});

test('with offline_access the module refreshes the access token, and Gatehouse accepts the new one', async () => {
  const { page, env: before } = await signIn();
  // mod_auth_openidc's refresh hook: the current access token guards it against cross-site requests.
  const hook = new URL(`${apache.origin}/app/redirect_uri`);
  hook.searchParams.set('refresh', `${apache.origin}/app/env`);
  hook.searchParams.set('access_token', before.OIDC_access_token!);
  await page.goto(hook.href);
  // On failure the hook comes back with ?error_code=…
  expect(page.url()).toBe(`${apache.origin}/app/env`);
  const after = await cgiEnvironment(page);
  expect(after.OIDC_access_token).toBeDefined();
  expect(after.OIDC_access_token).not.toBe(before.OIDC_access_token);
  const me = await userinfo(after.OIDC_access_token!);
  expect(me.status).toBe(200);
  await expect(me.json()).resolves.toMatchObject({ sub, email: 'alice@example.edu' });
  await page.context().close();
});

test('signing out at the intranet signs the person out of Gatehouse after they confirm', async () => {
  const { page, env } = await signIn();
  await page.goto(`${apache.origin}/app/redirect_uri?logout=${encodeURIComponent(`${apache.origin}/signed-out`)}`);
  // Gatehouse asks first, naming the application.
  await expect(page.locator('.lead').innerText()).resolves.toBe('Staff intranet asks to sign you out.');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${apache.origin}/signed-out`);
  await page.getByRole('heading', { name: 'You have signed out of the intranet' }).waitFor();

  // The module revoked its tokens, and the next visit needs a password again.
  expect((await userinfo(env.OIDC_access_token!)).status).toBe(401);
  await page.goto(`${apache.origin}/app/env`);
  expect(page.url()).toContain(`${gh.url}/interaction/`);
  await page.getByLabel('Password').waitFor();
  await page.context().close();
});

test('signing out at Gatehouse ends the Apache session through back-channel logout', async () => {
  const { page } = await signIn();
  expect(await protectedPageStatus(page)).toBe(200);

  // The person signs out at Gatehouse itself, not through the intranet.
  await page.goto(`${gh.url}/session/end`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Signed out' }).waitFor();

  // The browser still holds the intranet's session cookie, but Apache no longer knows the session.
  expect(await protectedPageStatus(page)).toBe(401);
  await page.goto(`${apache.origin}/app/env`);
  expect(page.url()).toContain(`${gh.url}/interaction/`);
  await page.context().close();
});
