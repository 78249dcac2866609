import { decodeProtectedHeader } from 'jose';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import { listen } from '../support/listen.ts';
import { startLogoutReceiver, verifyLogoutToken, type LogoutReceiver } from '../support/logout_receiver.ts';
import { operatorFetch } from '../../src/provider/backchannel_logout.ts';

const CB = 'https://portal.example.edu/cb';
const SIGNED_OUT = 'https://portal.example.edu/signed-out';

describe('OIDC Back-Channel Logout', () => {
  let gh: RunningGatehouse;
  let receiver: LogoutReceiver;
  let portal: RelyingParty;
  let wiki: RelyingParty;

  /** A web client that signs alice in without a consent page, with or without a back-channel logout URI. */
  async function application(name: string, backchannelLogoutUri?: string): Promise<RelyingParty> {
    const client = await registerClient(gh.services.database.knex, {
      name, kind: 'web', 'redirect-uri': [CB], 'post-logout-redirect-uri': [SIGNED_OUT], consent: 'skip', 'backchannel-logout-uri': backchannelLogoutUri,
    });
    return relyingParty(gh.url, client, CB);
  }

  /** Signs in to the applications one after the other in one browser: the first asks for the password, the rest ride the session. */
  async function signedInTo(browser: UserAgent, ...applications: RelyingParty[]): Promise<Array<{ idToken: string; claims: oidc.IDToken }>> {
    const signedIn = [];
    for (const [index, application] of applications.entries()) {
      const request = await application.begin();
      const callback = index === 0 ? await browser.signIn(request.url, 'alice', 'correct horse battery') : await browser.open(request.url);
      const tokens = await application.finish(callback.url, request);
      signedIn.push({ idToken: tokens.id_token!, claims: tokens.claims()! });
    }
    return signedIn;
  }

  async function signOut(browser: UserAgent, application: RelyingParty, idTokenHint: string): Promise<string> {
    const confirm = page(await browser.open(oidc.buildEndSessionUrl(application.config, { id_token_hint: idTokenHint, post_logout_redirect_uri: SIGNED_OUT }).href));
    const back = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(back.kind).toBe('callback');
    return back.url;
  }

  beforeAll(async () => {
    gh = await startGatehouse({ database: 'postgres', redis: true });
    receiver = await startLogoutReceiver();
    await createPerson(gh.services.database.knex, { username: 'alice', password: 'correct horse battery' });
    portal = await application('Portal', receiver.uri);
    wiki = await application('Wiki');
  });
  afterAll(async () => {
    await gh.close();
    await receiver.close();
  });

  test('discovery says the provider sends logout tokens that name the session', async () => {
    const discovery = await (await fetch(`${gh.url}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    expect(discovery).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
  });

  test('signing out at Gatehouse posts a signed logout token to each application of the session that registered a URI', async () => {
    const browser = new UserAgent(CB, SIGNED_OUT);
    const [atPortal] = await signedInTo(browser, portal, wiki);
    const before = receiver.tokens.length;

    expect(await signOut(browser, portal, atPortal!.idToken)).toBe(SIGNED_OUT);

    // One token: the wiki, in the same session, registered no URI and gets nothing.
    expect(receiver.tokens.length).toBe(before + 1);
    const logoutToken = receiver.tokens.at(-1)!;
    const payload = await verifyLogoutToken(gh.url, logoutToken, portal.config.clientMetadata().client_id);
    expect(decodeProtectedHeader(logoutToken).alg).toBe('RS256');
    // The session the id_token named, and the same person.
    expect(atPortal!.claims.sid).toEqual(expect.any(String));
    expect(payload).toMatchObject({ sub: atPortal!.claims.sub, sid: atPortal!.claims.sid, jti: expect.any(String) });

    // The session is over at Gatehouse too.
    expect(page(await browser.open((await wiki.begin()).url)).html).toContain('Sign in');
  });

  test('an application that is down, failing or hanging does not keep the person from signing out', async () => {
    const failing = await startLogoutReceiver('error');
    const hanging = await startLogoutReceiver('hang');
    const gone = await listen();
    await gone.close();
    try {
      const broken = await Promise.all([application('Failing', failing.uri), application('Hanging', hanging.uri), application('Gone', `${gone.url}/logout`)]);
      const browser = new UserAgent(CB, SIGNED_OUT);
      const [atPortal] = await signedInTo(browser, portal, ...broken);
      const before = receiver.tokens.length;

      expect(await signOut(browser, portal, atPortal!.idToken)).toBe(SIGNED_OUT);
      // The healthy application still got its token, and the others were tried.
      expect(receiver.tokens.length).toBe(before + 1);
      expect([failing.tokens.length, hanging.tokens.length]).toEqual([1, 1]);
      expect(page(await browser.open((await portal.begin()).url)).html).toContain('Sign in');
    } finally {
      await Promise.all([failing.close(), hanging.close()]);
    }
  });

  test('an application on a loopback or private address gets its logout token (the operator registered it); other requests keep the SSRF guard', async () => {
    // oidc-provider passes a dispatcher that refuses such addresses (jest's VM hides undici from
    // it, so it is stood in for here by one that refuses everything).
    const refuseAll = { dispatch() { throw new Error('refused by the SSRF guard'); } };
    const init = () => ({ method: 'POST', body: new URLSearchParams({ logout_token: 'x' }), dispatcher: refuseAll }) as unknown as RequestInit;
    await expect(fetch(receiver.uri, init())).rejects.toThrow();
    expect((await operatorFetch(receiver.uri, init())).status).toBe(200);
    // Any other request (a client's jwks_uri, say) keeps the guard.
    await expect(operatorFetch(receiver.uri, { method: 'GET', dispatcher: refuseAll } as unknown as RequestInit)).rejects.toThrow();
  });
});
