import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import type { CasServer } from '../support/cas_server.ts';
import { startCasPortal, type CasPortal } from '../support/cas_portal.ts';

const CB = 'https://portal.example.edu/cb';
const SIGNED_OUT = 'https://portal.example.edu/signed-out';

describe('RP-initiated logout', () => {
  let gh: RunningGatehouse;
  let portal: RelyingParty;

  beforeAll(async () => {
    gh = await startGatehouse({ database: 'postgres', redis: true });
    const db = gh.services.database.knex;
    const web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], 'post-logout-redirect-uri': [SIGNED_OUT], consent: 'skip' });
    await createPerson(db, { username: 'alice', password: 'correct horse battery' });
    portal = await relyingParty(gh.url, web, CB);
  });
  afterAll(() => gh.close());

  async function signedIn(browser: UserAgent): Promise<string> {
    const request = await portal.begin();
    const callback = await browser.signIn(request.url, 'alice', 'correct horse battery');
    return (await portal.finish(callback.url, request)).id_token!;
  }

  test('logout asks first, then ends the session and returns to the registered post-logout URI', async () => {
    const browser = new UserAgent('https://portal.example.edu/');
    const idToken = await signedIn(browser);
    const state = 'bye-123';
    const confirm = page(await browser.open(oidc.buildEndSessionUrl(portal.config, { id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT, state }).href));
    expect(confirm.html).toContain('Sign out?');
    expect(confirm.html).toContain('<strong>Portal</strong> asks to sign you out.');
    expect(confirm.html).not.toMatch(/<script/i);
    expect(confirm.headers.get('content-security-policy')).toContain("form-action 'self' https://portal.example.edu");

    const back = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(back.kind).toBe('callback');
    expect(back.url).toBe(`${SIGNED_OUT}?state=${state}`);

    // The session is gone: the next authorization asks for the password again.
    const next = await browser.open((await portal.begin()).url);
    expect(page(next).html).toContain('Sign in');
  });

  test('an unregistered post_logout_redirect_uri gets an error page, never a redirect', async () => {
    const browser = new UserAgent('https://portal.example.edu/');
    const idToken = await signedIn(browser);
    const step = page(await browser.open(oidc.buildEndSessionUrl(portal.config, { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/bye' }).href));
    expect(step.status).toBe(400);
    expect(step.html).toContain('post_logout_redirect_uri not registered');
  });
});

describe('CAS sign-in', () => {
  let gh: RunningGatehouse;
  let cas: CasServer;
  let portal: RelyingParty;
  let site: CasPortal;

  beforeAll(async () => {
    site = await startCasPortal(CB, 'openid profile email');
    ({ gh, cas, portal } = site);
  });
  afterAll(() => site.close());

  test('sign-in goes through CAS; the validated attributes become claims that outlive the visit', async () => {
    cas.signInAs('jdoe', { mail: ['jdoe@example.edu'], displayName: ['Jane Doe'], givenName: ['Jane'], sn: ['Doe'] });
    const browser = new UserAgent(CB);
    const request = await portal.begin({ scope: 'openid profile email' });
    const callback = await browser.open(request.url);
    expect(callback.kind).toBe('callback');
    const tokens = await portal.finish(callback.url, request);

    const validation = cas.validations.at(-1)!;
    expect(validation.get('ticket')).toMatch(/^ST-/);
    expect(validation.get('service')).toMatch(new RegExp(`^${gh.url}/interaction/[\\w-]+/cas$`));

    const userinfo = await oidc.fetchUserInfo(portal.config, tokens.access_token, oidc.skipSubjectCheck);
    expect(userinfo).toMatchObject({ preferred_username: 'jdoe', email: 'jdoe@example.edu', email_verified: true, name: 'Jane Doe', given_name: 'Jane', family_name: 'Doe' });
    const account = await gh.services.database.knex('accounts').where({ username: 'jdoe' }).first();
    expect(account).toMatchObject({ source: 'cas', password_hash: null, id: userinfo.sub });
  });

  test('a second CAS login keeps the subject and refreshes the attributes', async () => {
    cas.signInAs('jdoe', { mail: ['jane.doe@example.edu'], displayName: ['Jane Q. Doe'] });
    const request = await portal.begin({ scope: 'openid email' });
    const callback = await new UserAgent(CB).open(request.url);
    const tokens = await portal.finish(callback.url, request);
    const userinfo = await oidc.fetchUserInfo(portal.config, tokens.access_token, oidc.skipSubjectCheck);
    expect(userinfo.email).toBe('jane.doe@example.edu');
    expect(await gh.services.database.knex('accounts').where({ username: 'jdoe' }).count()).toEqual([{ count: '1' }]);
  });

  test('a forged ticket, or one issued for another sign-in, fails validation and signs no one in', async () => {
    cas.signInAs('mallory', { mail: ['mallory@example.edu'] });
    const atCas = async (browser: UserAgent) => {
      const step = await browser.open((await portal.begin()).url);
      expect(step.kind).toBe('callback');
      expect(step.url.startsWith(`${cas.url}/login?service=`)).toBe(true);
      return new URL(step.url).searchParams.get('service')!;
    };
    const victim = new UserAgent(CB, cas.url);
    const service = await atCas(victim);

    const forged = page(await victim.open(`${service}?ticket=ST-forged-123`));
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('CAS sign-in failed (INVALID_TICKET)');

    // A genuine ticket, but issued for another browser's sign-in (another service URL).
    const other = new UserAgent(CB, cas.url);
    const otherService = await atCas(other);
    const ticketFor = async (svc: string) => new URL((await fetch(`${cas.url}/login?service=${encodeURIComponent(svc)}`, { redirect: 'manual' })).headers.get('location')!).searchParams.get('ticket')!;
    const stolen = page(await victim.open(`${service}?ticket=${await ticketFor(otherService)}`));
    expect(stolen.status).toBe(400);
    expect(stolen.html).toContain('CAS sign-in failed (INVALID_SERVICE)');

    expect(await gh.services.database.knex('accounts').where({ username: 'mallory' }).first()).toBeUndefined();
  });
});
