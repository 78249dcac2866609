import { request } from 'node:http';
import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { page, UserAgent } from '../support/user_agent.ts';
import { clientCredentials } from '../support/http.ts';
import { authorizationCode, isActive, revoke, tokenRequest } from '../support/code_flow.ts';
import { gatehouse } from '../support/cli.ts';
import { listen } from '../support/listen.ts';
import { pollUntil } from '../support/poll.ts';
import { TEST_REDIS_URL } from '../support/env.ts';

const WEB_CB = 'https://portal.example.edu/cb';
const ALICE = { username: 'alice', password: 'correct horse battery' };

/**
 * The one address people and applications know, in front of both instances (their issuer, as
 * behind a load balancer); each request goes to the instance the test last chose.
 */
async function front() {
  let target = '';
  const http = await listen((req, res) => {
    // The Host header is passed on: each instance sees the public address, as behind a proxy.
    const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => res.writeHead(502).end(String(error)));
    req.pipe(upstream);
  });
  return {
    close: () => http.close(),
    /** The public URL, with the next requests going to this instance. */
    via: (instance: RunningGatehouse) => {
      target = instance.url;
      return http.url;
    },
    url: http.url,
  };
}

describe.each([
  ['one Redis', true],
  ['no Redis (everything in Postgres)', false],
])('two instances on one Postgres and %s behave as one', (_label, redis) => {
  let lb: Awaited<ReturnType<typeof front>>;
  let a: RunningGatehouse;
  let b: RunningGatehouse;
  let web: RegisteredClient;
  let server: RegisteredClient;
  let api: RegisteredClient;
  let rp: RelyingParty;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    lb = await front();
    // A scope defined by the CLI is seen within GROUP_CACHE_SECONDS.
    const env = { ISSUER: lb.url, GROUP_CACHE_SECONDS: '1' };
    a = await startGatehouse({ database: 'postgres', redis, env });
    b = await startGatehouse({ databaseConfig: a.config.database, redis, env, redisPrefix: a.redisPrefix });
    const db = a.services.database.knex;
    web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [WEB_CB], scopes: 'openid profile offline_access', consent: 'skip' });
    server = await registerClient(db, { name: 'Reports', kind: 'server', scopes: 'auth-none' });
    api = await registerClient(db, { name: 'API', kind: 'resource-server' });
    await createPerson(db, ALICE);
    lb.via(a);
    rp = await relyingParty(lb.url, web, WEB_CB);
    const { url } = a.config.database as { url: string };
    cliEnv = { DATABASE_URL: url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY, ...(redis ? { REDIS_URL: TEST_REDIS_URL } : {}) };
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await lb?.close();
  });

  test('a code issued by A is redeemed at B; replayed at A it is refused, and what it gave is revoked at both', async () => {
    lb.via(a);
    const { form } = await authorizationCode(rp, new UserAgent(WEB_CB), ALICE);
    const tokens = await tokenRequest(lb.via(b), web, form);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String), id_token: expect.any(String) });
    expect(await isActive(lb.via(a), String(tokens.body.access_token), api)).toBe(true);

    const replay = await tokenRequest(lb.via(a), web, form);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');

    // The replay revoked what the code gave (RFC 6749 §4.1.2), at both instances.
    const refreshed = await tokenRequest(lb.via(a), web, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) });
    expect(refreshed.body.error).toBe('invalid_grant');
    expect(await isActive(lb.via(b), String(tokens.body.access_token), api)).toBe(false);
  });

  test('a refresh token issued at B refreshes at A', async () => {
    lb.via(b);
    const { form } = await authorizationCode(rp, new UserAgent(WEB_CB), ALICE);
    const tokens = await tokenRequest(lb.via(b), web, form);
    const refreshed = await tokenRequest(lb.via(a), web, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) });
    expect(refreshed.status).toBe(200);
    expect(await isActive(lb.via(b), String(refreshed.body.access_token), api)).toBe(true);
  });

  test('tokens revoked at B are inactive at A: the access token at once, the refresh token refuses to refresh', async () => {
    lb.via(a);
    const { form } = await authorizationCode(rp, new UserAgent(WEB_CB), ALICE);
    const tokens = await tokenRequest(lb.via(a), web, form);
    const access = String(tokens.body.access_token);
    expect(await isActive(lb.via(a), access, api)).toBe(true);

    expect((await revoke(lb.via(b), web, access, 'access_token')).status).toBe(200);
    expect(await isActive(lb.via(a), access, api)).toBe(false);

    expect((await revoke(lb.via(b), web, String(tokens.body.refresh_token), 'refresh_token')).status).toBe(200);
    const refreshed = await tokenRequest(lb.via(a), web, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
  });

  test('a person signed in at A is not asked to sign in again at B', async () => {
    const browser = new UserAgent(WEB_CB);
    lb.via(a);
    await authorizationCode(rp, browser, ALICE);
    lb.via(b);
    // No credentials: a login page at B fails this.
    const { form } = await authorizationCode(rp, browser);
    expect((await tokenRequest(lb.via(b), web, form)).status).toBe(200);

    // Whereas a browser without that session is asked to sign in at B.
    const stranger = page(await new UserAgent(WEB_CB).open((await rp.begin()).url));
    expect(stranger.html).toContain('name="password"');
  });

  test('a client updated and a scope defined with the CLI take effect at both instances', async () => {
    // Both instances have read the client and the scopes before the changes.
    for (const instance of [a, b]) {
      const refused = await clientCredentials(lb.via(instance), server, { scope: 'auth-none read' });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_scope');
    }
    expect((await gatehouse(['clients', 'update', server.client_id, '--scopes', 'auth-none read'], cliEnv)).code).toBe(0);
    for (const instance of [a, b]) {
      const granted = await pollUntil(() => clientCredentials(lb.via(instance), server, { scope: 'auth-none read' }), (answer) => answer.status === 200, 5000);
      expect(granted.body.scope).toBe('auth-none read');
    }

    expect((await gatehouse(['scopes', 'define', 'grades', '--group', 'registrar', '--description', 'See your grades'], cliEnv)).code).toBe(0);
    expect((await gatehouse(['clients', 'update', server.client_id, '--scopes', 'auth-none read grades'], cliEnv)).code).toBe(0);
    for (const instance of [a, b]) {
      // An instance that did not know the scope yet would drop it from the grant.
      const granted = await pollUntil(
        () => clientCredentials(lb.via(instance), server, { scope: 'read grades' }),
        (answer) => answer.body.scope === 'read grades',
        5000,
      );
      expect(granted.body.scope).toBe('read grades');
    }
  });
});
