import { createHash, randomBytes } from 'node:crypto';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { createPerson } from '../support/accounts.ts';
import { UserAgent, page, findForm, type Page } from '../support/user_agent.ts';
import { postForm } from '../support/http.ts';
import { AuditWriter, queryAudit } from '../../src/storage/audit_log.ts';

// What an attacker tries against the account page, its sign-in client and the audit log.
let gh: RunningGatehouse;
const db = () => gh.services.database.knex;
const account = () => `${gh.url}/account`;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  await createPerson(db(), { username: 'mallory', password: 'mallory password' });
  await createPerson(db(), { username: 'alice', password: 'alice password' });
});
afterAll(() => gh.close());

/** An authorization request as the account page's client, with a PKCE verifier the attacker keeps. */
function accountClientRequest(extra: Record<string, string> = {}): { url: string; verifier: string } {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: 'gatehouse-account',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: account(),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url: `${gh.url}/auth?${params}`, verifier };
}

const accountGrants = async () => db()('oidc_models').where({ model: 'Grant' }).whereRaw("payload->>'clientId' = 'gatehouse-account'");

async function signedInAccountPage(person: string): Promise<{ browser: UserAgent; shown: Page }> {
  const browser = new UserAgent();
  let step = await browser.open(account());
  step = await browser.submit(step, '/login', { username: person, password: `${person} password` });
  const shown = page(step);
  expect(shown.url).toBe(account());
  return { browser, shown };
}

test('the account page\'s client gives no token to whoever holds its code and verifier', async () => {
  const { url, verifier } = accountClientRequest();
  // Stops at the redirect to /account, as a script would, and keeps the code.
  const step = await new UserAgent(account()).signIn(url, 'mallory', 'mallory password');
  if (step.kind !== 'callback') throw new Error(page(step).html);
  const code = new URL(step.url).searchParams.get('code')!;
  expect(code).toBeTruthy();
  const answer = await postForm(`${gh.url}/token`, { grant_type: 'authorization_code', client_id: 'gatehouse-account', code, code_verifier: verifier, redirect_uri: account() });
  expect({ status: answer.status, error: answer.body.error, token: answer.body.access_token }).toEqual({ status: 401, error: 'invalid_client', token: undefined });
});

test.each([['fragment'], ['form_post']])('authorization requests as the account page\'s client with response_mode=%s leave at most one grant of it (reused, not piled up)', async (mode) => {
  const { browser } = await signedInAccountPage('alice');
  const before = (await accountGrants()).length;
  for (let i = 0; i < 3; i += 1) {
    expect(page(await browser.open(accountClientRequest({ response_mode: mode }).url)).status).toBe(200);
  }
  expect((await accountGrants()).length).toBeLessThanOrEqual(before + 1);
});

test('a NUL byte in the client of Remove access is the page\'s "no such app", not a server error', async () => {
  const { browser, shown } = await signedInAccountPage('alice');
  const form = findForm(shown.html, '/account/sessions/sign-out-everywhere');
  const response = await fetch(`${account()}/apps/remove`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: browser.cookieHeader(account()), accept: 'text/html' },
    body: new URLSearchParams({ csrf: form.hidden.csrf!, client: 'app\u0000' }),
  });
  expect(response.status).toBe(400);
  expect(response.headers.get('cache-control')).toBe('no-store');
});

test('the buffered audit writer stores events holding a NUL or a lone surrogate (with U+FFFD in their place) and the rest of their batch', async () => {
  const errors: unknown[] = [];
  const writer = new AuditWriter(db(), { error: (fields) => errors.push(fields) });
  const actor = `anonymous-${randomBytes(4).toString('hex')}`;
  writer.record({ event: 'sign_in.failed', actor, username: 'nul\u0000here', detail: { reason: 'x\u0000' } });
  writer.record({ event: 'sign_in.failed', actor, username: 'half \ud800 pair', detail: { scopes: ['\udc00'] } });
  writer.record({ event: 'sign_in.failed', actor, username: 'plain' });
  await writer.close();
  expect(errors).toEqual([]);
  const rows = (await queryAudit(db(), { limit: 1000 })).filter((row) => row.actor === actor);
  expect(rows.map((row) => [row.username, row.detail])).toEqual([
    ['nul\ufffdhere', { reason: 'x\ufffd' }],
    ['half \ufffd pair', { scopes: ['\ufffd'] }],
    ['plain', {}],
  ]);
});
