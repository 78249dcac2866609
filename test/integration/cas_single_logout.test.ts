import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent } from '../support/user_agent.ts';
import { startCasServer, type CasServer } from '../support/cas_server.ts';
import { startLogoutReceiver, verifyLogoutToken, type LogoutReceiver } from '../support/logout_receiver.ts';

const CB = 'https://portal.example.edu/cb';

describe.each([['Redis', true], ['SQL', false]])('CAS single logout, sessions in %s', (_store, redis) => {
  let cas: CasServer;
  let gh: RunningGatehouse;
  let receiver: LogoutReceiver;
  let portal: RelyingParty;
  let wiki: RelyingParty;

  beforeAll(async () => {
    cas = await startCasServer();
    receiver = await startLogoutReceiver();
    gh = await startGatehouse({ database: 'postgres', redis, env: { IDENTITY: 'cas', CAS_URL: cas.url } });
    const db = gh.services.database.knex;
    const client = (name: string, extra: Record<string, string>) => registerClient(db, { name, kind: 'web', 'redirect-uri': [CB], consent: 'skip', ...extra });
    portal = await relyingParty(gh.url, await client('Portal', { scopes: 'openid profile offline_access', 'backchannel-logout-uri': receiver.uri }), CB);
    wiki = await relyingParty(gh.url, await client('Wiki', { scopes: 'openid profile' }), CB);
    cas.signInAs('jdoe', { mail: ['jdoe@example.edu'] });
  });
  afterAll(async () => {
    await gh.close();
    await receiver.close();
    await cas.close();
  });

  /** A browser that stops where CAS would ask for a password, so a test sees whether it is sent there. */
  const browser = () => new UserAgent(CB, cas.url);

  /** Signs in to an application, through CAS when the browser has no Gatehouse session. */
  async function signIn(agent: UserAgent, application: RelyingParty, params: Record<string, string> = {}) {
    const request = await application.begin(params);
    let step = await agent.open(request.url);
    if (step.url.startsWith(cas.url)) step = await agent.open(step.url);
    return application.finish(step.url, request);
  }

  /** Whether the browser's Gatehouse session still signs it in without CAS. */
  async function stillSignedIn(agent: UserAgent): Promise<boolean> {
    const step = await agent.open((await wiki.begin()).url);
    return step.url.startsWith(CB);
  }

  test('the logout request for a ticket ends the session it signed in, tells its applications and keeps offline access', async () => {
    const agent = browser();
    const atPortal = await signIn(agent, portal, { scope: 'openid offline_access', prompt: 'consent' });
    const ticket = cas.issued.at(-1)!;
    const atWiki = await signIn(agent, wiki);
    expect(cas.issued.at(-1)).toBe(ticket);
    const before = receiver.tokens.length;

    const answer = await cas.singleLogout(ticket);
    expect(answer.status).toBe(200);

    expect(await stillSignedIn(agent)).toBe(false);
    // The portal, which registered a URI, got a logout token for this session; the wiki has none to get.
    expect(receiver.tokens.length).toBe(before + 1);
    const payload = await verifyLogoutToken(gh.url, receiver.tokens.at(-1)!, portal.config.clientMetadata().client_id);
    expect(payload).toMatchObject({ sub: atPortal.claims()!.sub, sid: atPortal.claims()!.sid });
    // The wiki's token went with the session; the portal's offline access did not.
    await expect(oidc.fetchUserInfo(wiki.config, atWiki.access_token, oidc.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    expect((await oidc.refreshTokenGrant(portal.config, atPortal.refresh_token!)).access_token).toEqual(expect.any(String));
  });

  test('a ticket Gatehouse never validated, or a replayed request, ends nothing', async () => {
    const agent = browser();
    await signIn(agent, portal);
    const first = cas.issued.at(-1)!;
    const before = receiver.tokens.length;

    expect((await cas.singleLogout({ ticket: 'ST-1-forged-cas', service: first.service })).status).toBe(200);
    expect(await stillSignedIn(agent)).toBe(true);

    // The genuine request, sent twice at once, ends the session once; the person signs in again;
    // the same request, replayed, leaves the new session alone.
    expect((await Promise.all([cas.singleLogout(first), cas.singleLogout(first)])).map((answer) => answer.status)).toEqual([200, 200]);
    expect(await stillSignedIn(agent)).toBe(false);
    await signIn(agent, portal);
    expect((await cas.singleLogout(first)).status).toBe(200);
    expect(await stillSignedIn(agent)).toBe(true);
    expect(receiver.tokens.length).toBe(before + 1);
  });

  test.each([
    ['no logoutRequest field', new URLSearchParams({ other: 'x' })],
    ['not XML', new URLSearchParams({ logoutRequest: 'ST-1-abc' })],
    ['no SessionIndex', new URLSearchParams({ logoutRequest: '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>' })],
    ['a DTD with an entity', new URLSearchParams({ logoutRequest: '<!DOCTYPE r [<!ENTITY t "ST-1">]><LogoutRequest><SessionIndex>&t;</SessionIndex></LogoutRequest>' })],
  ])('a logout request with %s is invalid_request, not a server error', async (_case, body) => {
    const response = await fetch(cas.issued.at(-1)?.service ?? `${gh.url}/interaction/x/cas`, { method: 'POST', body });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'expected a CAS logoutRequest: a SAML LogoutRequest naming a service ticket' });
  });
});
