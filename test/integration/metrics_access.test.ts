import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { clientCredentials, toJson } from '../support/http.ts';

const TOKEN = 'prometheus-scrapes-with-this-token-0123456789';
const get = async (url: string, authorization?: string) => toJson(await fetch(url, { headers: authorization ? { authorization } : {} }));

describe('with METRICS_TOKEN', () => {
  let gh: RunningGatehouse;
  beforeAll(async () => {
    gh = await startGatehouse({ database: 'postgres', redis: true, env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(() => gh.close());

  test('the right bearer token gets the metrics, grants counted', async () => {
    const server = await registerClient(gh.services.database.knex, { name: 'Job', kind: 'server', scopes: 'read' });
    expect((await clientCredentials(gh.url, server)).status).toBe(200);
    const metrics = await get(`${gh.url}/metrics`, `Bearer ${TOKEN}`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/gatehouse_grants_total\{grant_type="client_credentials",outcome="success"\} [1-9]/);
    expect(metrics.text).toContain('gatehouse_http_request_duration_seconds_bucket');
  });

  test('no token is refused with a bare Bearer challenge', async () => {
    const refused = await get(`${gh.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(refused.text).not.toContain('gatehouse_');
  });

  test.each([
    ['a wrong token', `Bearer ${TOKEN.slice(0, -1)}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 10)}`],
    ['the token as Basic', `Basic ${TOKEN}`],
  ])('%s is refused with invalid_token', async (_what, authorization) => {
    const refused = await get(`${gh.url}/metrics`, authorization);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm="metrics"/);
    expect(refused.body).toMatchObject({ error: 'invalid_token' });
    expect(refused.text).not.toContain('gatehouse_');
  });

  test('health and readiness stay open', async () => {
    expect(await get(`${gh.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get(`${gh.url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
  });
});

test('without METRICS_TOKEN /metrics is not served, even to a bearer token; health and readiness are', async () => {
  const gh = await startGatehouse({ database: 'postgres', redis: false });
  try {
    expect((await get(`${gh.url}/metrics`)).status).toBe(404);
    expect((await get(`${gh.url}/metrics`, `Bearer ${TOKEN}`)).status).toBe(404);
    expect(await get(`${gh.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get(`${gh.url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
  } finally {
    await gh.close();
  }
});
