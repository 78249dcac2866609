import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { cacheStats } from '../../src/ttl_cache.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page, type Page, type Step } from '../support/user_agent.ts';
import { startLogoutReceiver, verifyLogoutToken, type LogoutReceiver } from '../support/logout_receiver.ts';
import { isActive, tokenRequest } from '../support/code_flow.ts';
import { addGroupMember } from '../../src/admin/account_commands.ts';
import { defineScope } from '../../src/admin/scope_commands.ts';
import { queryAudit } from '../../src/storage/audit_log.ts';
import { startCasServer, type CasServer } from '../support/cas_server.ts';
import { pollUntil } from '../support/poll.ts';

const CB = 'https://apps.example.edu/cb';
const ACCOUNT_SCOPE = 'openid profile offline_access auth-cas grades';

// Sessions in Redis, and (no REDIS_URL) in SQL: the account page finds and ends them in both.
describe.each([['in Redis', true], ['in SQL', false]])('sessions %s', (_where, redis) => {
  let gh: RunningGatehouse;
  let receiver: LogoutReceiver;
  let api: RegisteredClient;
  const apps: Record<string, { client: RegisteredClient; rp: RelyingParty }> = {};
  const subs: Record<string, string> = {};

  beforeAll(async () => {
    gh = await startGatehouse({ database: 'postgres', redis });
    receiver = await startLogoutReceiver();
    const db = gh.services.database.knex;
    await defineScope('grades', { group: 'registrar', description: 'See and change your grades' }, 'auth-cas')(db);
    await defineScope('auth-cas', { group: 'active-people', description: 'Sign in' }, 'auth-cas')(db);
    for (const person of ['alice', 'bob', 'carol', 'dinah']) {
      subs[person] = await createPerson(db, { username: person, password: `${person} password`, name: person === 'alice' ? 'Alice Liddell' : undefined });
      for (const group of ['active-people', 'registrar']) await addGroupMember(group, person)(db);
    }
    api = await registerClient(db, { name: 'Grades API', kind: 'resource-server' });
    const register = async (name: string, extra: Record<string, unknown> = {}) => {
      const client = await registerClient(db, { name, kind: 'web', 'redirect-uri': [CB], scopes: ACCOUNT_SCOPE, ...extra });
      apps[name] = { client, rp: await relyingParty(gh.url, client, CB) };
    };
    await register('Portal', { 'backchannel-logout-uri': receiver.uri, 'logo-uri': 'https://apps.example.edu/portal.png' });
    await register('Wiki');
    await register('Gradebook');
    await register('Notes', { consent: 'skip', 'backchannel-logout-uri': receiver.uri });
  });
  afterAll(async () => {
    await gh?.close();
    await receiver?.close();
  });

  const account = () => `${gh.url}/account`;

  /** Signs in if the login page shows, approves on the consent page, and redeems the code. */
  async function approve(browser: UserAgent, person: string, app: string, scope = ACCOUNT_SCOPE) {
    const { rp } = apps[app]!;
    const request = await rp.begin({ scope, prompt: 'consent' });
    let step = await browser.open(request.url);
    if (isLoginPage(step)) step = await browser.submit(step, '/login', { username: person, password: `${person} password` });
    step = await browser.submit(step, '/confirm');
    if (step.kind !== 'callback') throw new Error(page(step).html);
    return rp.finish(step.url, request);
  }

  function isLoginPage(step: Step): boolean {
    return step.kind === 'page' && step.html.includes('name="password"');
  }

  /** Opens /account, signing in through the usual login page if the browser has no session. */
  async function accountPage(browser: UserAgent, person: string): Promise<Page> {
    let step = await browser.open(account());
    if (isLoginPage(step)) step = await browser.submit(step, '/login', { username: person, password: `${person} password` });
    const shown = page(step);
    expect(shown.url).toBe(account());
    expect(shown.status).toBe(200);
    return shown;
  }

  /** The "Your apps" entry of one application, as text without markup. */
  function appEntry(html: string, name: string): string | undefined {
    const apps = html.split('id="sessions-heading"')[0]!;
    return apps.split('<li class="account-item">').slice(1).map((item) => item.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')).find((item) => item.includes(` ${name} `));
  }

  /** The record ids of the sessions listed, and which one is this browser's. */
  function sessionsListed(html: string): { id: string; current: boolean }[] {
    const section = html.split('id="sessions-heading"')[1]!;
    return section.split('<li class="account-item">').slice(1).map((item) => ({
      id: /name="session" value="([^"]+)"/.exec(item)![1]!,
      current: item.includes('class="badge"'),
    }));
  }

  const refresh = (app: string, refreshToken: string) => tokenRequest(gh.url, apps[app]!.client, { grant_type: 'refresh_token', refresh_token: refreshToken });

  test('without a session, /account signs the person in through the usual login and comes back to /account, never anywhere else', async () => {
    const first = await fetch(account(), { redirect: 'manual' });
    expect(first.status).toBe(303);
    const signIn = new URL(first.headers.get('location')!);
    expect(`${signIn.origin}${signIn.pathname}`).toBe(`${gh.url}/auth`);
    expect(signIn.searchParams.get('redirect_uri')).toBe(account());
    expect(first.headers.get('cache-control')).toBe('no-store');

    // A redirect_uri of the attacker's is not the account page's: oidc-provider refuses the request.
    const hijacked = new URL(signIn);
    hijacked.searchParams.set('redirect_uri', 'https://evil.example/steal');
    const refused = page(await new UserAgent().open(hijacked.href));
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('redirect_uri');

    const browser = new UserAgent();
    const shown = await accountPage(browser, 'alice');
    expect(shown.html).toContain('Signed in as <strong>Alice Liddell</strong> (alice)');
    // The account page's own sign-in is no app of the person's, and its grant (and code) are gone once back.
    expect(shown.html).not.toContain('Gatehouse account');
    const french = await fetch(account(), { headers: { cookie: browser.cookieHeader(account()), 'accept-language': 'fr-FR,fr;q=0.9' } });
    expect(await french.text()).toMatch(/Vos applications[\s\S]*Où vous êtes connecté[\s\S]*Se déconnecter partout/);
    const leftOver = await gh.services.database.knex('oidc_models').where({ model: 'Grant' }).whereRaw("payload->>'clientId' = 'gatehouse-account'");
    expect(leftOver).toEqual([]);

    // The login page names where the person is going in their language, not the account page client's English name.
    const frenchLogin = page(await new UserAgent().speaks('fr-FR,fr;q=0.9').open(account()));
    expect(frenchLogin.html).toContain('pour continuer vers <strong>Votre compte</strong>');
    expect(page(await new UserAgent().open(account())).html).toContain('to continue to <strong>Your account</strong>');

    // Cancelling the login comes back with an error page, not round again.
    const cancelled = page(await new UserAgent().open(`${account()}?error=access_denied`));
    expect(cancelled.status).toBe(400);
    expect(cancelled.html).toContain('You did not sign in');
  });

  test('a person sees the two apps they approved and removes one: its tokens die at once, its back-channel logout URI is told, the other keeps working', async () => {
    const browser = new UserAgent(CB);
    const portal = await approve(browser, 'alice', 'Portal');
    const wiki = await approve(browser, 'alice', 'Wiki', 'openid profile');
    const shown = await accountPage(browser, 'alice');

    expect(shown.headers.get('cache-control')).toBe('no-store');
    expect(shown.headers.get('content-security-policy')).toContain("script-src 'none'");
    expect(shown.html).not.toContain('<script');
    const portalEntry = appEntry(shown.html, 'Portal')!;
    // The consent page's words, the enterprise scope's description included.
    for (const words of ['Sign you in and know who you are', 'Your name and username', 'Keep access while you are away', 'See and change your grades', 'Offline access']) {
      expect(portalEntry).toContain(words);
    }
    expect(portalEntry).toMatch(/Allowed .* last used/);
    expect(shown.html).toContain('src="https://apps.example.edu/portal.png"');
    const wikiEntry = appEntry(shown.html, 'Wiki')!;
    expect(wikiEntry).toContain('Your name and username');
    expect(wikiEntry).not.toContain('Offline access');

    const tokensBefore = receiver.tokens.length;
    const after = page(await browser.submit(shown, '/account/apps/remove', { client: apps.Portal!.client.client_id }));
    expect(after.url).toBe(account());
    expect(appEntry(after.html, 'Portal')).toBeUndefined();
    expect(appEntry(after.html, 'Wiki')).toBeDefined();

    // At once: no wait for a cache or an expiry.
    expect(await isActive(gh.url, portal.access_token, api)).toBe(false);
    const refused = await refresh('Portal', portal.refresh_token!);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(await isActive(gh.url, wiki.access_token, api)).toBe(true);

    expect(receiver.tokens.length).toBe(tokensBefore + 1);
    const logout = await verifyLogoutToken(gh.url, receiver.tokens.at(-1)!, apps.Portal!.client.client_id);
    expect(logout.sub).toBe(subs.alice);

    await gh.services.audit.flush();
    const [revoked] = (await queryAudit(gh.services.database.knex, { users: ['alice'], clientId: apps.Portal!.client.client_id, limit: 50 })).filter((e) => e.event === 'consent.revoked');
    expect(revoked).toMatchObject({ actor: `account:${subs.alice}`, username: 'alice', detail: expect.objectContaining({ reason: 'account_page' }) });

    // The next sign-in to Portal asks again.
    const again = page(await browser.open((await apps.Portal!.rp.begin({ scope: 'openid profile' })).url));
    expect(again.html).toContain('Allow');
    expect(again.html).toContain('/confirm');
  });

  test('a refresh token of an app that was not removed still works', async () => {
    const browser = new UserAgent(CB);
    const gradebook = await approve(browser, 'alice', 'Gradebook');
    const wiki = await approve(browser, 'alice', 'Wiki');
    const shown = await accountPage(browser, 'alice');
    await browser.submit(shown, '/account/apps/remove', { client: apps.Gradebook!.client.client_id });
    expect((await refresh('Gradebook', gradebook.refresh_token!)).body.error).toBe('invalid_grant');
    const refreshed = await refresh('Wiki', wiki.refresh_token!);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).toEqual(expect.any(String));
  });

  test('"Allowed" is when the person approved, "last used" moves with each refresh of the app\'s token', async () => {
    const browser = new UserAgent(CB);
    const { refresh_token: refreshToken } = await approve(browser, 'bob', 'Gradebook');
    const day = (at: Date) => new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' }).format(at);
    const today = day(new Date());
    const db = gh.services.database.knex;
    // The app's last recorded use was long ago (the code was redeemed just now, so it is set back).
    const grantIds = (await db('oidc_models').select('id').where({ model: 'Grant' })
      .whereRaw("payload->>'accountId' = ? AND payload->>'clientId' = ?", [subs.bob!, apps.Gradebook!.client.client_id])).map((row: { id: string }) => row.id);
    const uses = () => db('oidc_models').where({ model: 'GrantUse' }).whereIn('id', grantIds);
    // Recorded just after the token response.
    await pollUntil(() => uses(), (rows) => rows.length > 0, 2000);
    await uses().update({ updated_at: new Date('2001-02-03T04:05:00Z') });
    expect(appEntry((await accountPage(browser, 'bob')).html, 'Gradebook')).toContain(`Allowed ${today}`);
    expect(appEntry((await accountPage(browser, 'bob')).html, 'Gradebook')).toContain('last used Feb 3, 2001');

    // A minute on (uses are recorded to the minute), the app refreshes its token: that is its last use.
    const realNow = Date.now;
    Date.now = () => realNow() + 61_000;
    try {
      expect((await refresh('Gradebook', refreshToken!)).status).toBe(200);
      const entry = await pollUntil(async () => appEntry((await accountPage(browser, 'bob')).html, 'Gradebook')!, (text) => !text.includes('2001'), 2000);
      expect(entry).toContain(`last used ${day(new Date())}`);
      expect(entry).toContain(`Allowed ${today}`);
    } finally {
      Date.now = realNow;
    }
  });

  test('a form without its CSRF token, or naming an app another person allowed, changes nothing', async () => {
    const alice = new UserAgent(CB);
    const bob = new UserAgent(CB);
    const alicesWiki = await approve(alice, 'alice', 'Wiki');
    const bobsGradebook = await approve(bob, 'bob', 'Gradebook');
    const bobsWiki = await approve(bob, 'bob', 'Wiki');
    const shown = await accountPage(alice, 'alice');

    const noCsrf = page(await alice.submit(shown, '/account/apps/remove', { csrf: '', client: apps.Wiki!.client.client_id }));
    expect(noCsrf.status).toBe(400);
    expect(noCsrf.html).toContain('The form expired or did not come from this site');
    expect(await isActive(gh.url, alicesWiki.access_token, api)).toBe(true);

    // Bob's page's token does not work on Alice's session either.
    const bobsPage = await accountPage(bob, 'bob');
    const bobsCsrf = /name="csrf" value="([^"]+)"/.exec(bobsPage.html)![1]!;
    expect(page(await alice.submit(shown, '/account/apps/remove', { csrf: bobsCsrf, client: apps.Wiki!.client.client_id })).status).toBe(400);

    // Alice names the Gradebook, which only Bob allowed: refused, and Bob's access stays.
    const notHers = page(await alice.submit(shown, '/account/apps/remove', { client: apps.Gradebook!.client.client_id }));
    expect(notHers.status).toBe(400);
    expect(notHers.html).toContain('None of your applications has that id');
    expect((await refresh('Gradebook', bobsGradebook.refresh_token!)).status).toBe(200);

    // Both allowed the Wiki: Alice's removal is hers alone.
    await alice.submit(shown, '/account/apps/remove', { client: apps.Wiki!.client.client_id });
    expect(await isActive(gh.url, alicesWiki.access_token, api)).toBe(false);
    expect(await isActive(gh.url, bobsWiki.access_token, api)).toBe(true);

    // A session record id of Bob's is no session of Alice's.
    const bobsSession = sessionsListed(bobsPage.html)[0]!.id;
    const otherSession = page(await alice.submit(shown, '/account/sessions/sign-out', { session: bobsSession }));
    expect(otherSession.status).toBe(400);
    expect(page(await bob.open(account())).url).toBe(account());

    // A GET changes nothing; a POST without a session is refused.
    expect((await fetch(`${account()}/sessions/sign-out-everywhere`)).status).toBe(404);
    const anonymous = await fetch(`${account()}/sessions/sign-out-everywhere`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: 'csrf=x' });
    expect(anonymous.status).toBe(400);
    expect(anonymous.headers.get('cache-control')).toBe('no-store');
    const asJson = await fetch(`${account()}/apps/remove`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x&client=y' });
    expect(asJson.status).toBe(400);
    expect(await asJson.json()).toMatchObject({ error: 'invalid_request' });
    expect(asJson.headers.get('cache-control')).toBe('no-store');
  });

  test('"Sign out" ends one session and tells its applications; "Sign out everywhere" ends them all', async () => {
    const here = new UserAgent(CB);
    const there = new UserAgent(CB);
    const third = new UserAgent(CB);
    await accountPage(here, 'carol');
    // The other browser signs in to Notes (no consent page), which registered a back-channel logout URI.
    const request = await apps.Notes!.rp.begin({ scope: 'openid' });
    const notes = await apps.Notes!.rp.finish((await there.signIn(request.url, 'carol', 'carol password')).url, request);
    await accountPage(third, 'carol');

    const shown = await accountPage(here, 'carol');
    const listed = sessionsListed(shown.html);
    expect(listed).toHaveLength(3);
    expect(listed.filter((s) => s.current)).toHaveLength(1);
    const thereRecord = sessionsListed((await accountPage(there, 'carol')).html).find((s) => s.current)!;

    const before = receiver.tokens.length;
    const after = page(await here.submit(shown, '/account/sessions/sign-out', { session: thereRecord.id }));
    expect(after.url).toBe(account());
    expect(sessionsListed(after.html)).toHaveLength(2);
    expect(isLoginPage(await there.open(account()))).toBe(true);
    expect(page(await third.open(account())).url).toBe(account());
    expect(receiver.tokens.length).toBe(before + 1);
    const logout = await verifyLogoutToken(gh.url, receiver.tokens.at(-1)!, apps.Notes!.client.client_id);
    expect(logout.sid).toBe(notes.claims()!.sid);

    const everywhere = page(await here.submit(after, '/account/sessions/sign-out-everywhere'));
    expect(everywhere.status).toBe(200);
    expect(everywhere.html).toContain('You are signed out');
    expect(isLoginPage(await here.open(account()))).toBe(true);
    expect(isLoginPage(await third.open(account()))).toBe(true);
  });

  test('"Sign out everywhere" also ends a session the page has no record of (one begun before the account page existed)', async () => {
    const here = new UserAgent(CB);
    const before = new UserAgent(CB);
    const request = await apps.Notes!.rp.begin({ scope: 'openid' });
    await before.signIn(request.url, 'dinah', 'dinah password');
    await gh.services.database.knex('oidc_models').where({ model: 'AccountSession' }).whereRaw("payload->>'accountId' = ?", [subs.dinah!]).delete();
    const shown = await accountPage(here, 'dinah');
    expect(sessionsListed(shown.html)).toHaveLength(1);

    const sweeps = () => cacheStats().get('account_unrecorded_sessions_swept')?.misses ?? 0;
    const sweptBefore = sweeps();
    expect(page(await here.submit(shown, '/account/sessions/sign-out-everywhere')).html).toContain('You are signed out');
    expect(isLoginPage(await before.open((await apps.Notes!.rp.begin({ scope: 'openid' })).url))).toBe(true);
    expect(sweeps()).toBe(sweptBefore + 1);

    // Every later sign-in leaves a record: clicking again within the hour reads no other session
    // (in Redis, no SCAN of the whole key space at will), and still signs out what it should.
    const again = await accountPage(here, 'dinah');
    expect(page(await here.submit(again, '/account/sessions/sign-out-everywhere')).html).toContain('You are signed out');
    expect(sweeps()).toBe(sweptBefore + 1);
    expect(isLoginPage(await here.open(`${gh.url}/account`))).toBe(true);
  });
});

describe('with CAS', () => {
  let gh: RunningGatehouse;
  let cas: CasServer;

  beforeAll(async () => {
    cas = await startCasServer();
    gh = await startGatehouse({ database: 'postgres', redis: true, env: { IDENTITY: 'cas', CAS_URL: cas.url } });
  });
  afterAll(async () => {
    await gh?.close();
    await cas?.close();
  });

  test('/account signs the person in at CAS and comes back to their page', async () => {
    cas.signInAs('jdoe', { displayName: ['Jane Doe'] });
    const shown = page(await new UserAgent().open(`${gh.url}/account`));
    expect(shown.url).toBe(`${gh.url}/account`);
    expect(shown.html).toContain('Signed in as <strong>Jane Doe</strong> (jdoe)');
    expect(cas.validations.at(-1)!.get('service')).toMatch(new RegExp(`^${gh.url}/interaction/[\\w-]+/cas$`));
  });
});
