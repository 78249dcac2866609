import { Cluster } from 'ioredis';
import { REDIS_WAIT_MS } from '../../src/storage/redis.ts';
import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { page, UserAgent } from '../support/user_agent.ts';
import { authorizationCode, isActive, revoke, tokenRequest } from '../support/code_flow.ts';
import { gatehouse } from '../support/cli.ts';
import { clientCredentials } from '../support/http.ts';
import { pollUntil } from '../support/poll.ts';
import { startRedisCluster, type RedisCluster, type RedisNode } from '../support/redis_topologies.ts';

const WEB_CB = 'https://portal.example.edu/cb';
const ALICE = { username: 'alice', password: 'correct horse battery' };
// The CLI (accounts disable) works on the default prefix; this cluster is the test's own.
const PREFIX = 'gatehouse:';

let cluster: RedisCluster;
let gh: RunningGatehouse;
let web: RegisteredClient;
let api: RegisteredClient;
let server: RegisteredClient;
let rp: RelyingParty;
/** What Gatehouse logged at warn and above: a CROSSSLOT or any other Redis error would be here. */
const problems: string[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  gh = await startGatehouse({ database: 'postgres', env: { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_URL: cluster.url, LOG_LEVEL: 'warn' }, redisPrefix: PREFIX, logTo: { write: (line: string) => void problems.push(line) } });
  const db = gh.services.database.knex;
  web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [WEB_CB], scopes: 'openid profile offline_access', consent: 'skip' });
  api = await registerClient(db, { name: 'API', kind: 'resource-server' });
  server = await registerClient(db, { name: 'Reports', kind: 'server', scopes: 'auth-none read' });
  for (const username of ['alice', 'bob', 'carol']) await createPerson(db, { username, password: ALICE.password });
  rp = await relyingParty(gh.url, web, WEB_CB);
}, 30_000);
afterAll(async () => {
  await gh?.close();
  await cluster?.stop();
});

/** The master holding a key (each key lives on exactly one; the others answer MOVED). */
async function masterOf(key: string): Promise<RedisNode> {
  const holders = [];
  for (const master of cluster.masters) if (await master.client.exists(key).catch(() => 0)) holders.push(master);
  expect(holders).toHaveLength(1);
  return holders[0]!;
}

test('Gatehouse runs on the cluster: it is what /readyz checks', async () => {
  expect(gh.services.redis).toBeInstanceOf(Cluster);
  const ready = await fetch(`${gh.url}/readyz`);
  expect(ready.status).toBe(200);
});

test('sign-in, code, token, introspection, refresh and revocation work, and a revocation reaches the grant\'s keys on every master', async () => {
  const { form } = await authorizationCode(rp, new UserAgent(WEB_CB), ALICE);
  const tokens = await tokenRequest(gh.url, web, form);
  expect(tokens.status).toBe(200);
  const accessTokens = [String(tokens.body.access_token)];
  const refreshToken = String(tokens.body.refresh_token);
  // Refreshing adds access tokens to the grant: more keys that must be revoked together.
  for (let i = 0; i < 8; i++) {
    const refreshed = await tokenRequest(gh.url, web, { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect(refreshed.status).toBe(200);
    accessTokens.push(String(refreshed.body.access_token));
  }
  for (const token of accessTokens) expect(await isActive(gh.url, token, api)).toBe(true);

  // Where the grant's keys are: its indexes and the artifacts they list.
  const indexes = (await Promise.all(cluster.masters.map((master) => master.client.keys(`${PREFIX}*:grant_expiry:*`)))).flat();
  expect(indexes.map((key) => key.slice(PREFIX.length).replace(/:grant_expiry:.*/, '')).sort()).toEqual(['AccessToken', 'AuthorizationCode']);
  const grantKeys = [...indexes];
  for (const index of indexes) grantKeys.push(...(await (await masterOf(index)).client.zrange(index, '0', '-1')));
  expect(grantKeys).toHaveLength(2 + 1 + accessTokens.length);
  const masters = new Set(await Promise.all(grantKeys.map(async (key) => (await masterOf(key)).port)));
  expect(masters.size).toBeGreaterThan(1);

  // Revoking an access token revokes its grant (oidc-provider): every token of it, wherever its key lives.
  expect((await revoke(gh.url, web, accessTokens[0]!, 'access_token')).status).toBe(200);
  for (const token of accessTokens) expect(await isActive(gh.url, token, api)).toBe(false);
  expect((await tokenRequest(gh.url, web, { grant_type: 'refresh_token', refresh_token: refreshToken })).body.error).toBe('invalid_grant');
  for (const index of indexes) expect(await Promise.all(cluster.masters.map((master) => master.client.exists(index).catch(() => 0)))).toEqual([0, 0, 0]);
});

test('a consumed code replayed is refused, and the tokens it gave are revoked', async () => {
  const { form } = await authorizationCode(rp, new UserAgent(WEB_CB), ALICE);
  const tokens = await tokenRequest(gh.url, web, form);
  expect(await isActive(gh.url, String(tokens.body.access_token), api)).toBe(true);
  const replay = await tokenRequest(gh.url, web, form);
  expect(replay.status).toBe(400);
  expect(replay.body.error).toBe('invalid_grant');
  expect(await isActive(gh.url, String(tokens.body.access_token), api)).toBe(false);
});

test('a signed-in session is kept on the cluster: the next authorization request asks nothing', async () => {
  const browser = new UserAgent(WEB_CB);
  await authorizationCode(rp, browser, { username: 'bob', password: ALICE.password });
  const { form } = await authorizationCode(rp, browser);
  expect((await tokenRequest(gh.url, web, form)).status).toBe(200);
});

test('failed sign-ins are limited on the cluster: after 5 wrong passwords the right one is refused with 429', async () => {
  for (let i = 0; i < 5; i++) {
    const wrong = page(await new UserAgent(WEB_CB).signIn((await rp.begin()).url, 'carol', `guess ${i}`));
    expect(wrong.status).toBe(401);
  }
  const limited = page(await new UserAgent(WEB_CB).signIn((await rp.begin()).url, 'carol', ALICE.password));
  expect(limited.status).toBe(429);
  const counted = (await Promise.all(cluster.masters.map((master) => master.client.keys(`${PREFIX}login-*`)))).flat();
  expect(counted.length).toBeGreaterThan(0);
});

test('the CLI works against the cluster: accounts disable ends a session held there (every master is searched)', async () => {
  const db = gh.services.database.knex;
  await createPerson(db, { username: 'dave', password: ALICE.password });
  // Sessions of other people on every master, so the one to end is found among them.
  const browsers = await Promise.all(['dave', 'alice', 'bob'].map(async (username) => {
    const browser = new UserAgent(WEB_CB);
    await authorizationCode(rp, browser, { username, password: ALICE.password });
    return browser;
  }));
  const env = { DATABASE_URL: (gh.config.database as { url: string }).url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY, REDIS_CLUSTER_NODES: cluster.seeds, REDIS_URL: cluster.url };
  const run = await gatehouse(['accounts', 'disable', 'dave', '--json'], env);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(run.stdout)).toMatchObject({ username: 'dave', disabled: true, sessions_ended: 1 });
  expect(page(await browsers[0]!.open((await rp.begin()).url)).html).toContain('name="password"');
  // The others are still signed in.
  await authorizationCode(rp, browsers[1]!);
});

test('nothing went wrong on the way: no CROSSSLOT, no Redis error, nothing logged at warn or above', () => {
  expect(problems).toEqual([]);
});

test('with a master lost the cluster is down: /readyz says so, and a token request answers 503 temporarily_unavailable within 2 s, not 500', async () => {
  const [lost, ...others] = cluster.masters;
  await lost!.kill();
  const states = await pollUntil(
    () => Promise.all(others.map((node) => node.client.cluster('INFO') as Promise<string>)),
    (infos) => infos.every((info) => info.includes('cluster_state:fail')),
    10_000,
    100,
  );
  expect(states.every((info) => info.includes('cluster_state:fail'))).toBe(true);
  // The other masters still answer PING: readiness asks whether every slot is served.
  const ready = await fetch(`${gh.url}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ checks: { redis: 'unreachable' } });
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    const answer = await clientCredentials(gh.url, server, { scope: 'read' });
    expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 503, error: 'temporarily_unavailable' });
    // Bounded as any Redis wait is (src/storage/redis.ts), not retried for seconds.
    expect(Date.now() - started).toBeLessThan(2 * REDIS_WAIT_MS);
  }
});
