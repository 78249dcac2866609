import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { oidc, relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page, type Step } from '../support/user_agent.ts';
import { addGroupMember } from '../../src/admin/account_commands.ts';
import { defineScope } from '../../src/admin/scope_commands.ts';
import { startCasServer } from '../support/cas_server.ts';

const CALLBACK = 'https://portal.example.edu/cb';
let gh: RunningGatehouse;
let portal: RelyingParty;
let aliceSub: string;
let bobSub: string;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  const db = gh.services.database.knex;
  await defineScope('grades', { group: 'registrar', description: 'See your grades' }, 'auth-cas')(db);
  const client = await registerClient(db, {
    name: 'Portal',
    kind: 'web',
    'redirect-uri': [CALLBACK],
    scopes: 'openid profile email auth-cas grades',
    'logo-uri': 'https://portal.example.edu/logo.png',
    'policy-uri': 'https://portal.example.edu/privacy',
    'tos-uri': 'https://portal.example.edu/terms',
  });
  aliceSub = await createPerson(db, { username: 'alice', password: 'correct horse battery', email: 'alice@example.edu', name: 'Alice Liddell' });
  bobSub = await createPerson(db, { username: 'bob', password: 'bobs password' });
  for (const username of ['alice', 'bob']) await addGroupMember('auth-cas', username)(db);
  await addGroupMember('registrar', 'alice')(db);
  portal = await relyingParty(gh.url, client, CALLBACK);
});
afterAll(() => gh.close());

const html = (step: Step) => page(step).html;

test('the consent page says who is signed in, shows the app’s logo, policy and terms, and where access is removed', async () => {
  const consent = html(await new UserAgent(CALLBACK).signIn((await portal.begin({ scope: 'openid email' })).url, 'alice', 'correct horse battery'));
  expect(consent).toContain('<html lang="en">');
  expect(consent).toContain('Signed in as <strong>Alice Liddell</strong> (alice)');
  expect(consent).toMatch(/<a class="not-you" href="\/interaction\/[\w-]+\/switch-account\?csrf=[\w-]+">Not you\?<\/a>/);
  expect(consent).toContain('<img class="logo" src="https://portal.example.edu/logo.png"');
  expect(consent).toContain('<a href="https://portal.example.edu/privacy">Privacy policy</a>');
  expect(consent).toContain('<a href="https://portal.example.edu/terms">Terms of service</a>');
  expect(consent).toContain(`You can remove access at any time at <a href="${gh.url}/account">${gh.url}/account</a>.`);
  // A person without a name is named by the username.
  const bobs = html(await new UserAgent(CALLBACK).signIn((await portal.begin({ scope: 'openid email' })).url, 'bob', 'bobs password'));
  expect(bobs).toContain('Signed in as <strong>bob</strong>');
});

test('"Not you?" signs Alice out and the same request completes for Bob, who signs in next', async () => {
  const browser = new UserAgent(CALLBACK);
  const request = await portal.begin({ scope: 'openid email', nonce: 'n-0S6_WzA2Mj' });
  const alicesConsent = await browser.signIn(request.url, 'alice', 'correct horse battery');
  const uid = new URL(page(alicesConsent).url).pathname;

  const login = await browser.click(alicesConsent, 'Not you?');
  // Back at the login page of the same authorization request.
  expect(page(login).url).toBe(`${gh.url}${uid}`);
  expect(html(login)).toContain('<button type="submit" class="primary">Sign in</button>');
  expect(html(login)).not.toContain('Alice');

  const bobsConsent = await browser.submit(login, '/login', { username: 'bob', password: 'bobs password' });
  expect(html(bobsConsent)).toContain('Signed in as <strong>bob</strong>');
  const callback = await browser.submit(bobsConsent, '/confirm');
  expect(callback.kind).toBe('callback');
  // The application's own request (state, PKCE verifier, nonce) gets Bob's tokens.
  const tokens = await oidc.authorizationCodeGrant(portal.config, new URL(callback.url), { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: 'n-0S6_WzA2Mj' });
  expect(tokens.claims()).toMatchObject({ sub: bobSub, nonce: 'n-0S6_WzA2Mj' });
  expect(tokens.claims()!.sub).not.toBe(aliceSub);

  // The browser's session is Bob's now.
  const next = await browser.open((await portal.begin({ scope: 'openid email', prompt: 'consent' })).url);
  expect(html(next)).toContain('Signed in as <strong>bob</strong>');
});

test('"Not you?" needs the page’s CSRF token, as a link and as a form', async () => {
  const browser = new UserAgent(CALLBACK);
  const consent = await browser.signIn((await portal.begin({ scope: 'openid email', prompt: 'consent' })).url, 'alice', 'correct horse battery');
  const link = new URL(/href="([^"]+\/switch-account\?csrf=[^"]+)"/.exec(html(consent))![1]!, page(consent).url);
  const cookie = browser.cookieHeader(page(consent).url);
  const attempts = [
    // A page elsewhere linking to the interaction without the token, or with another one.
    fetch(new URL(link.pathname, link), { headers: { accept: 'text/html', cookie }, redirect: 'manual' }),
    fetch(new URL(`${link.pathname}?csrf=forged`, link), { headers: { accept: 'text/html', cookie }, redirect: 'manual' }),
    fetch(new URL(link.pathname, link), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie },
      body: new URLSearchParams({ csrf: 'forged' }),
      redirect: 'manual',
    }),
  ];
  for (const forged of await Promise.all(attempts)) {
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('The form expired or did not come from this site.');
  }
  // Alice is still signed in: allowing still works.
  expect((await browser.submit(consent, '/confirm')).kind).toBe('callback');
});

describe('a French browser', () => {
  test('with Accept-Language fr-FR sees the login and consent pages in French, scope descriptions included', async () => {
    const browser = new UserAgent(CALLBACK).speaks('fr-FR,fr;q=0.9,en;q=0.8');
    const login = await browser.open((await portal.begin({ scope: 'openid email auth-cas grades' })).url);
    expect(html(login)).toContain('<html lang="fr">');
    expect(page(login).headers.get('content-language')).toBe('fr');
    expect(html(login)).toContain('<button type="submit" class="primary">Se connecter</button>');
    expect(html(login)).toContain('<label for="username">Identifiant</label>');

    const wrong = await browser.submit(login, '/login', { username: 'alice', password: 'not it' });
    expect(html(wrong)).toContain('L’identifiant ou le mot de passe est incorrect.');

    const consent = html(await browser.submit(wrong, '/login', { username: 'alice', password: 'correct horse battery' }));
    expect(consent).toContain('<h1>Autoriser l’accès ?</h1>');
    expect(consent).toContain('Connecté en tant que <strong>Alice Liddell</strong> (alice)');
    expect(consent).toContain('<strong>Portal</strong> demande à :');
    expect(consent).toContain('<span class="scope-description">Vous connecter et savoir qui vous êtes</span>');
    expect(consent).toContain('<span class="scope-description">Votre adresse e-mail</span>');
    expect(consent).toContain('<span class="scope-description">Vous connecter avec votre compte de l’établissement</span>');
    // An enterprise scope's description is the operator's text, as given.
    expect(consent).toContain('<span class="scope-description">See your grades</span>');
    expect(consent).toContain('>Autoriser</button>');
    expect(consent).toContain('>Refuser</button>');
    expect(consent).toContain('Vous pouvez retirer cet accès à tout moment sur');
  });

  test('with ui_locales=fr in the request sees French, whatever the browser says', async () => {
    const login = html(await new UserAgent(CALLBACK).speaks('en-US').open((await portal.begin({ scope: 'openid', ui_locales: 'fr' })).url));
    expect(login).toContain('<html lang="fr">');
    expect(login).toContain('Se connecter');
  });

  test('signs out in French: the question (ui_locales of the logout request) and the signed-out page', async () => {
    const browser = new UserAgent(CALLBACK).speaks('fr');
    const consent = await browser.signIn((await portal.begin({ scope: 'openid', prompt: 'consent' })).url, 'alice', 'correct horse battery');
    expect((await browser.submit(consent, '/confirm')).kind).toBe('callback');
    const question = await browser.open(`${gh.url}/session/end?ui_locales=fr`);
    expect(html(question)).toContain('<html lang="fr">');
    expect(html(question)).toContain('Voulez-vous vous déconnecter ?');
    expect(html(question)).toContain('>Rester connecté</button>');
    const done = html(await browser.submit(question, '/session/end/confirm', { logout: 'yes' }));
    expect(done).toContain('<h1>Vous êtes déconnecté</h1>');
  });

  test('an OAuth error at the authorization endpoint is told in French by its code, oidc-provider’s English description kept under Détails', async () => {
    const unknownClient = `${gh.url}/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=https://portal.example.edu/cb`;
    const [french, english] = await Promise.all(['fr-FR', 'en'].map(async (language) => {
      const answer = await fetch(unknownClient, { headers: { accept: 'text/html', 'accept-language': language }, redirect: 'manual' });
      expect(answer.status).toBe(400);
      return answer.text();
    }));
    expect(french).toContain('<p>Gatehouse ne connaît pas l’application qui vous a envoyé ici.</p>');
    expect(french).toContain('Détails: <code>invalid_client</code> <span lang="en">client is invalid</span>');
    expect(english).toContain('<p>Gatehouse does not know the application that sent you here.</p>');
    expect(english).toContain('<code>invalid_client</code> <span lang="en">client is invalid</span>');
  });

  test('an error page is in French too', async () => {
    const error = await fetch(`${gh.url}/interaction/nothing-here`, { headers: { accept: 'text/html', 'accept-language': 'fr' } });
    expect(error.status).toBe(400);
    const text = await error.text();
    expect(text).toContain('<html lang="fr">');
    expect(text).toContain('<h1>Une erreur s’est produite</h1>');
    expect(text).toContain('Cette connexion a expiré ou a été ouverte dans un autre navigateur.');
  });
});

test('a language Gatehouse does not offer gets English', async () => {
  const login = html(await new UserAgent(CALLBACK).speaks('de-DE,de;q=0.9').open((await portal.begin({ scope: 'openid', ui_locales: 'ja' })).url));
  expect(login).toContain('<html lang="en">');
  expect(login).toContain('<button type="submit" class="primary">Sign in</button>');
});

test('with CAS, "Not you?" asks CAS for the password again (renew), so its single sign-on cannot sign the same person back in', async () => {
  const cas = await startCasServer();
  const casGatehouse = await startGatehouse({ database: 'postgres', redis: true, env: { IDENTITY: 'cas', CAS_URL: cas.url } });
  try {
    const client = await registerClient(casGatehouse.services.database.knex, { name: 'Portal', kind: 'web', 'redirect-uri': [CALLBACK], scopes: 'openid profile' });
    const rp = await relyingParty(casGatehouse.url, client, CALLBACK);
    const browser = new UserAgent(CALLBACK);
    cas.signInAs('jdoe', { displayName: ['Jane Doe'] });
    const request = await rp.begin({ scope: 'openid profile' });
    const janes = await browser.open(request.url);
    expect(html(janes)).toContain('Signed in as <strong>Jane Doe</strong> (jdoe)');
    expect(cas.logins.at(-1)!.has('renew')).toBe(false);

    cas.signInAs('mdoe', { displayName: ['Max Doe'] });
    const maxs = await browser.click(janes, 'Not you?');
    expect(cas.logins.at(-1)!.get('renew')).toBe('true');
    expect(cas.validations.at(-1)!.get('renew')).toBe('true');
    expect(html(maxs)).toContain('Signed in as <strong>Max Doe</strong> (mdoe)');
    const callback = await browser.submit(maxs, '/confirm');
    expect(callback.kind).toBe('callback');
    const max = await casGatehouse.services.database.knex('accounts').where({ username: 'mdoe' }).first();
    expect((await rp.finish(callback.url, request)).claims()!.sub).toBe(max.id);
  } finally {
    await casGatehouse.close();
    await cas.close();
  }
});
