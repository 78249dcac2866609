import { request } from 'node:http';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { rawRequest, type RawResponse } from '../support/http.ts';
import { findForm, UserAgent } from '../support/user_agent.ts';
import { startLogoutReceiver, verifyLogoutToken } from '../support/logout_receiver.ts';
import { pollUntil } from '../support/poll.ts';

const CB = 'https://portal.example.edu/cb';
const EVIL = 'evil.example';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

type LogLine = Record<string, unknown>;

/** Gatehouse with its log lines kept for the test to read. */
async function start(env: Record<string, string>): Promise<{ gh: RunningGatehouse; client: RegisteredClient; log: LogLine[] }> {
  const log: LogLine[] = [];
  const gh = await startGatehouse({ env: { LOG_LEVEL: 'info', ...env }, logTo: { write: (line: string) => void log.push(JSON.parse(line) as LogLine) } });
  const db = gh.services.database.knex;
  const client = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], consent: 'skip' });
  await createPerson(db, { username: 'alice', password: 'alices password' });
  return { gh, client, log };
}

function authorizationPath(client: RegisteredClient, extra: Record<string, string> = {}): string {
  return `/auth?${new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: CB,
    response_type: 'code',
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    ...extra,
  })}`;
}

/** One browser's request with these headers (a foreign Host, a proxy's X-Forwarded-For), keeping its cookies. */
async function send(browser: UserAgent, url: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  const cookie = browser.cookieHeader(url);
  const response = await rawRequest(url, { ...headers, ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : FORM) }, body);
  browser.remember(response.setCookies);
  return response;
}

/** An authorization request and its login page, every request with these headers. */
async function loginPage(browser: UserAgent, gh: RunningGatehouse, client: RegisteredClient, headers: Record<string, string>, extra: Record<string, string> = {}) {
  const auth = await send(browser, `${gh.url}${authorizationPath(client, extra)}`, headers);
  expect(auth.status).toBe(303);
  const page = await send(browser, new URL(auth.location!, gh.url).href, headers);
  return { auth, page, form: findForm(page.text, '/login') };
}

async function signIn(browser: UserAgent, gh: RunningGatehouse, client: RegisteredClient, headers: Record<string, string>, username: string, password: string, extra: Record<string, string> = {}) {
  const { auth, page, form } = await loginPage(browser, gh, client, headers, extra);
  const posted = await send(browser, new URL(form.action, gh.url).href, headers, new URLSearchParams({ ...form.hidden, username, password }).toString());
  return { auth, page, posted };
}

/** Follows Gatehouse's own redirects (consent, resume) to the first answer that is not one. */
async function followOnIssuer(browser: UserAgent, gh: RunningGatehouse, response: RawResponse, headers: Record<string, string>): Promise<RawResponse> {
  let current = response;
  for (let hops = 0; current.status === 303 && new URL(current.location!, gh.url).origin === gh.url && hops < 4; hops += 1) {
    current = await send(browser, new URL(current.location!, gh.url).href, headers);
  }
  return current;
}

describe('behind one trusted proxy (TRUST_PROXY=1), requests naming another host', () => {
  let gh: RunningGatehouse;
  let client: RegisteredClient;
  let log: LogLine[];

  beforeAll(async () => {
    ({ gh, client, log } = await start({ TRUST_PROXY: '1' }));
  });
  afterAll(() => gh.close());

  test.each<Record<string, string>>([
    { host: EVIL },
    { 'x-forwarded-host': EVIL },
    { host: EVIL, 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' },
  ])('discovery with %j names only ISSUER', async (headers) => {
    const discovery = await rawRequest(`${gh.url}/.well-known/openid-configuration`, headers);
    expect(discovery.status).toBe(200);
    expect(discovery.text).not.toContain(EVIL);
    const metadata = JSON.parse(discovery.text) as Record<string, unknown>;
    expect(metadata.token_endpoint).toBe(`${gh.url}/token`);
    const urls = Object.values(metadata).filter((value): value is string => typeof value === 'string' && value.includes('://'));
    expect(urls.filter((url) => !url.startsWith(`${gh.url}/`) && url !== gh.url)).toEqual([]);
  });

  test('a request line naming another host in full (absolute-form) names only ISSUER too', async () => {
    const { port } = new URL(gh.url);
    for (const path of ['/.well-known/openid-configuration', authorizationPath(client)]) {
      const answer = await new Promise<{ status: number; location: string | undefined; text: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: `http://${EVIL}${path}` }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, text: Buffer.concat(chunks).toString() }));
        }).on('error', reject).end();
      });
      expect(answer.status).toBeLessThan(400);
      expect(`${answer.location ?? ''} ${answer.text}`).not.toContain(EVIL);
    }
  });

  test('a sign-in begun with a foreign Host comes back to ISSUER, and its form_post goes to the client', async () => {
    const headers = { host: EVIL, 'x-forwarded-host': EVIL };
    const browser = new UserAgent();
    const { auth, page, posted } = await signIn(browser, gh, client, headers, 'alice', 'alices password', { response_mode: 'form_post' });
    expect(new URL(auth.location!, gh.url).origin).toBe(gh.url);
    expect(page.text).not.toContain(EVIL);
    expect(posted.status).toBe(303);
    expect(posted.location).toMatch(new RegExp(`^${gh.url}/auth/`));
    // Consent (skipped for this client) is one more round through the interaction.
    const formPost = await followOnIssuer(browser, gh, posted, headers);
    expect(formPost.status).toBe(200);
    expect(findForm(formPost.text, '/cb').action).toBe(CB);
    expect(formPost.text).not.toContain(EVIL);
  });

  test('the logout page posts its confirmation to ISSUER', async () => {
    const logout = await rawRequest(`${gh.url}/session/end`, { host: EVIL, 'x-forwarded-host': EVIL });
    expect(logout.status).toBe(200);
    expect(findForm(logout.text, '/session/end/confirm').action).toBe(`${gh.url}/session/end/confirm`);
    expect(logout.text).not.toContain(EVIL);
  });

  test('signing out on a foreign Host posts the logout token, from ISSUER, to the registered URI', async () => {
    const receiver = await startLogoutReceiver();
    try {
      const wiki = await registerClient(gh.services.database.knex, { name: 'Wiki', kind: 'web', 'redirect-uri': [CB], consent: 'skip', 'backchannel-logout-uri': receiver.uri });
      const headers = { host: EVIL, 'x-forwarded-host': EVIL };
      const browser = new UserAgent();
      const { posted } = await signIn(browser, gh, wiki, headers, 'alice', 'alices password');
      expect((await followOnIssuer(browser, gh, posted, headers)).location).toMatch(new RegExp(`^${CB}\\?code=`));
      const confirm = await send(browser, `${gh.url}/session/end?client_id=${wiki.client_id}`, headers);
      const form = findForm(confirm.text, '/session/end/confirm');
      expect(form.action).toBe(`${gh.url}/session/end/confirm`);
      await send(browser, form.action, headers, new URLSearchParams({ ...form.hidden, logout: 'yes' }).toString());
      const [token] = await pollUntil(async () => receiver.tokens, (tokens) => tokens.length > 0, 5000);
      await verifyLogoutToken(gh.url, token!, wiki.client_id);
    } finally {
      await receiver.close();
    }
  });

  test('forged leftmost entries do not buy more guesses: the sixth wrong password from one address is refused, the owner elsewhere signs in', async () => {
    await createPerson(gh.services.database.knex, { username: 'bob', password: 'bobs password' });
    const guess = async (i: number) => (await signIn(new UserAgent(), gh, client, { 'x-forwarded-for': `192.0.2.${i}, 203.0.113.9` }, 'bob', `guess ${i}`)).posted.status;
    const statuses = [];
    for (let i = 1; i <= 6; i += 1) statuses.push(await guess(i));
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const owner = await signIn(new UserAgent(), gh, client, { 'x-forwarded-for': '198.51.100.20' }, 'bob', 'bobs password');
    expect(owner.posted.status).toBe(303);
  });

  test('failed sign-ins count the address the proxy saw, not the one the client wrote on the left', async () => {
    const failuresBefore = log.filter((line) => line.event === 'login.failed').length;
    // The client rotates a forged leftmost entry; the proxy appends the address it really saw.
    for (let i = 1; i <= 4; i += 1) {
      const { posted } = await signIn(new UserAgent(), gh, client, { 'x-forwarded-for': `192.0.2.${i}, 203.0.113.7` }, `spray-${i}`, 'Winter2026!');
      expect(posted.status).toBe(401);
    }
    await signIn(new UserAgent(), gh, client, { 'x-forwarded-for': '203.0.113.7, 198.51.100.2' }, 'spray-5', 'Winter2026!');
    const addresses = log.filter((line) => line.event === 'login.failed').slice(failuresBefore).map((line) => line.ip);
    expect(addresses).toEqual(['203.0.113.7', '203.0.113.7', '203.0.113.7', '203.0.113.7', '198.51.100.2']);
  });
});

test('CAS is sent back to ISSUER whatever Host the browser sent', async () => {
  const { gh, client } = await start({ IDENTITY: 'cas', CAS_URL: 'https://cas.example.edu/cas' });
  try {
    const headers = { host: EVIL };
    const browser = new UserAgent();
    const auth = await send(browser, `${gh.url}${authorizationPath(client)}`, headers);
    const toCas = await send(browser, new URL(auth.location!, gh.url).href, headers);
    const casLogin = new URL(toCas.location!);
    expect(casLogin.origin + casLogin.pathname).toBe('https://cas.example.edu/cas/login');
    expect(casLogin.searchParams.get('service')).toMatch(new RegExp(`^${gh.url}/interaction/[^/]+/cas$`));
  } finally {
    await gh.close();
  }
});

describe('an https ISSUER served over plain http, as behind a TLS-terminating proxy, without TRUST_PROXY', () => {
  const ISSUER = 'https://login.example.test';
  let gh: RunningGatehouse;
  let client: RegisteredClient;
  let log: LogLine[];

  beforeAll(async () => {
    ({ gh, client, log } = await start({ ISSUER }));
  });
  afterAll(() => gh.close());

  test('discovery names https endpoints', async () => {
    const metadata = JSON.parse((await rawRequest(`${gh.url}/.well-known/openid-configuration`, {})).text) as Record<string, string>;
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'end_session_endpoint', 'jwks_uri']) {
      expect(metadata[endpoint]).toMatch(new RegExp(`^${ISSUER}/`));
    }
  });

  test('every cookie of a sign-in is Secure', async () => {
    const { auth, page } = await loginPage(new UserAgent(), gh, client, {});
    const set = [...auth.setCookies, ...page.setCookies];
    expect(set.length).toBeGreaterThan(0);
    expect(set.filter((cookie) => !/;\s*secure(;|$)/i.test(cookie))).toEqual([]);
  });

  test('a proxy that forwards another scheme is named in one warning', async () => {
    await rawRequest(`${gh.url}/healthz`, { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'login.example.test' });
    await rawRequest(`${gh.url}/healthz`, { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'other.example.test' });
    const warnings = log.filter((line) => line.event === 'proxy.mismatch');
    expect(warnings).toEqual([expect.objectContaining({ level: 40, forwarded: 'http://login.example.test', issuer: ISSUER })]);
    expect(String(warnings[0]!.msg)).toContain(`ISSUER is ${ISSUER} but the proxy forwards http://login.example.test`);
  });
});
