import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { basic, clientCredentials, toJson } from '../support/http.ts';
import { relyingParty } from '../support/relying_party.ts';
import { UserAgent, page } from '../support/user_agent.ts';
import { sample, samples } from '../support/metrics.ts';

const CB = 'https://portal.example.edu/cb';
const METRICS_TOKEN = 'prometheus-scrapes-with-this-token-0123456789';
const PASSWORD = 'alices password';

type LogLine = Record<string, unknown>;

describe('access log and /metrics after real traffic', () => {
  let gh: RunningGatehouse;
  const raw: string[] = [];
  const log = (): LogLine[] => raw.map((line) => JSON.parse(line) as LogLine);
  const requests = (): LogLine[] => log().filter((line) => line.event === 'http.request');
  let server: RegisteredClient;
  let portal: RegisteredClient;
  /** Every credential the traffic below sent or received: none may reach the log. */
  const secrets: string[] = [];
  let metrics: Map<string, number>;

  beforeAll(async () => {
    gh = await startGatehouse({ database: 'postgres', redis: true, env: { LOG_LEVEL: 'info', METRICS_TOKEN }, logTo: { write: (line: string) => void raw.push(line) } });
    const db = gh.services.database.knex;
    server = await registerClient(db, { name: 'Job', kind: 'server', scopes: 'read' });
    portal = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], consent: 'skip' });
    await createPerson(db, { username: 'alice', password: PASSWORD });
    secrets.push(server.client_secret, portal.client_secret, PASSWORD, METRICS_TOKEN);

    const granted = await clientCredentials(gh.url, server);
    expect(granted.status).toBe(200);
    secrets.push(String(granted.body.access_token));
    const refused = await clientCredentials(gh.url, basic(server.client_id, `${server.client_secret}x`));
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_client' } });

    const rp = await relyingParty(gh.url, portal, CB);
    const browser = new UserAgent(CB);
    const request = await rp.begin();
    const wrong = page(await browser.signIn(request.url, 'alice', 'not alices password'));
    expect(wrong.status).toBe(401);
    const callback = await browser.submit(wrong, '/login', { username: 'alice', password: PASSWORD });
    if (callback.kind !== 'callback') throw new Error(`expected the callback, got a page: ${callback.url}`);
    secrets.push(new URL(callback.url).searchParams.get('code')!, request.state, request.verifier);
    const tokens = await rp.finish(callback.url, request);
    secrets.push(tokens.access_token, tokens.id_token!);

    const scraped = await toJson(await fetch(`${gh.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }));
    expect(scraped.status).toBe(200);
    metrics = samples(scraped.text);
  });
  afterAll(() => gh.close());

  test('tokens are counted by the grant type that issued them', () => {
    expect(sample(metrics, 'gatehouse_tokens_issued_total', { type: 'access_token', grant_type: 'client_credentials' })).toBe(1);
    expect(sample(metrics, 'gatehouse_tokens_issued_total', { type: 'access_token', grant_type: 'authorization_code' })).toBe(1);
  });

  test('grant types a client makes up are one label, so no one can grow the metrics without bound', async () => {
    const invented = ['password-please', 'urn:x:1', 'x'.repeat(200)];
    for (const grantType of invented) {
      expect((await clientCredentials(gh.url, server, { grant_type: grantType })).body.error).toBe('unsupported_grant_type');
    }
    const text = (await toJson(await fetch(`${gh.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }))).text;
    for (const grantType of invented) expect(text).not.toContain(grantType);
    expect(sample(samples(text), 'gatehouse_grants_total', { grant_type: 'other', outcome: 'error' })).toBe(3);
  });

  test('a refused client counts as invalid_client at the token endpoint', () => {
    expect(sample(metrics, 'gatehouse_oauth_errors_total', { route: 'token', error: 'invalid_client' })).toBe(1);
  });

  test('a wrong password and then the right one count as one of each outcome', () => {
    expect(sample(metrics, 'gatehouse_sign_ins_total', { method: 'password', outcome: 'wrong_password' })).toBe(1);
    expect(sample(metrics, 'gatehouse_sign_ins_total', { method: 'password', outcome: 'success' })).toBe(1);
    expect(sample(metrics, 'gatehouse_sign_ins_total', { method: 'password', outcome: 'locked' })).toBeUndefined();
  });

  test('latency is a histogram per endpoint, and the pool, Redis and caches are reported', () => {
    expect(sample(metrics, 'gatehouse_http_request_duration_seconds_count', { route: 'token', method: 'POST', status: '200' })).toBe(2);
    expect(sample(metrics, 'gatehouse_http_request_duration_seconds_count', { route: 'token', method: 'POST', status: '401' })).toBe(1);
    expect(sample(metrics, 'gatehouse_redis_up')).toBe(1);
    expect(sample(metrics, 'gatehouse_db_pool_connections', { state: 'free' })).toBeGreaterThan(0);
    expect(sample(metrics, 'gatehouse_db_pool_connections', { state: 'pending' })).toBe(0);
    // The portal's client is read at the authorization request, the sign-in and the token request.
    expect(sample(metrics, 'gatehouse_cache_requests_total', { cache: 'clients', result: 'miss' })).toBeGreaterThan(0);
    expect(sample(metrics, 'gatehouse_cache_requests_total', { cache: 'clients', result: 'hit' })).toBeGreaterThan(0);
  });

  test('one access line per request names the route, status and client, never the URL', () => {
    const lines = requests();
    expect(lines).toContainEqual(expect.objectContaining({ level: 30, method: 'POST', route: 'token', status: 200, client_id: server.client_id, duration_ms: expect.any(Number) }));
    expect(lines).toContainEqual(expect.objectContaining({ method: 'POST', route: 'token', status: 401 }));
    expect(lines).toContainEqual(expect.objectContaining({ method: 'GET', route: 'authorization', client_id: portal.client_id }));
    expect(lines.filter((line) => line.route === '/interaction/:uid/login').map((line) => line.status)).toEqual([401, 303]);
    expect(lines).toContainEqual(expect.objectContaining({ method: 'POST', route: 'token', status: 200, client_id: portal.client_id }));
    expect(lines).toContainEqual(expect.objectContaining({ method: 'GET', route: '/metrics', status: 200 }));
    for (const line of lines) expect(Object.keys(line).sort()).toEqual(expect.arrayContaining(['method', 'route', 'status', 'duration_ms']));
  });

  test('no token, code, secret, password or query string reaches the log', () => {
    const text = raw.join('');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain('?');
    expect(text).not.toMatch(/\/interaction\/[A-Za-z0-9_-]{10,}/);
  });
});
