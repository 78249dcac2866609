import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { page, UserAgent } from '../support/user_agent.ts';
import { clientCredentials } from '../support/http.ts';
import { authorizationCode, isActive, tokenRequest, type IssuedCode } from '../support/code_flow.ts';
import { pollUntil } from '../support/poll.ts';
import { gatehouse } from '../support/cli.ts';
import { startRedisSentinels, type RedisSentinels } from '../support/redis_topologies.ts';
import { startProcess } from '../support/server_process.ts';
import { freePort } from '../support/listen.ts';

const WEB_CB = 'https://portal.example.edu/cb';
const ALICE = { username: 'alice', password: 'correct horse battery' };

let redis: RedisSentinels;
let gh: RunningGatehouse;
let web: RegisteredClient;
let server: RegisteredClient;
let api: RegisteredClient;
let rp: RelyingParty;

// Written before the failover, checked after it (the tests run in order).
const issued: string[] = [];
let consumed: IssuedCode;
const signedIn = new UserAgent(WEB_CB);

beforeAll(async () => {
  redis = await startRedisSentinels();
  // The CLI (accounts disable) works on the default prefix; this Redis is the test's own.
  gh = await startGatehouse({ database: 'postgres', env: { REDIS_SENTINELS: redis.addresses, REDIS_SENTINEL_MASTER: redis.masterName, REDIS_URL: redis.url }, redisPrefix: 'gatehouse:' });
  const db = gh.services.database.knex;
  web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [WEB_CB], scopes: 'openid offline_access', consent: 'skip' });
  server = await registerClient(db, { name: 'Reports', kind: 'server', scopes: 'auth-none read' });
  api = await registerClient(db, { name: 'API', kind: 'resource-server' });
  await createPerson(db, ALICE);
  rp = await relyingParty(gh.url, web, WEB_CB);
}, 30_000);
afterAll(async () => {
  await gh?.close();
  await redis?.stop();
});

/** The keys of a model's artifacts on one node (not its grant indexes). */
async function artifactKeys(node: RedisSentinels['master'], model: string): Promise<string[]> {
  return (await node.client.keys(`${gh.redisPrefix}${model}:*`)).filter((key) => !key.includes(':grant_expiry:'));
}

test('behind Sentinel every token is on the replica by the time it is handed out', async () => {
  for (let i = 0; i < 10; i++) {
    const answer = await clientCredentials(gh.url, server, { scope: 'read' });
    expect(answer.status).toBe(200);
    issued.push(String(answer.body.access_token));
  }
  consumed = await authorizationCode(rp, signedIn, ALICE);
  const tokens = await tokenRequest(gh.url, web, consumed.form);
  expect(tokens.status).toBe(200);
  issued.push(String(tokens.body.access_token));
  // Written through the master, and already on the replica: each save waited for it (WAIT).
  expect(await artifactKeys(redis.master, 'AccessToken')).toHaveLength(issued.length);
  expect(await artifactKeys(redis.replica, 'AccessToken')).toHaveLength(issued.length);
  const stats = await redis.master.client.info('commandstats');
  expect(Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0)).toBeGreaterThanOrEqual(issued.length);
});

test('the master crashes: once the sentinels promote the replica Gatehouse serves again, at full speed, without a restart', async () => {
  const crashed = Date.now();
  await redis.crashMaster();
  const served = await pollUntil(() => clientCredentials(gh.url, server, { scope: 'read' }), (answer) => answer.status === 200, 10_000, 100);
  expect(served.status).toBe(200);
  issued.push(String(served.body.access_token));
  // Within the sentinels' down-after-milliseconds (1 s) and an election.
  expect(Date.now() - crashed).toBeLessThan(10_000);
  expect(await redis.currentMaster()).toEqual({ host: redis.replica.host, port: redis.replica.port });

  // The promoted master has no replica now: writes do not each wait REPLICA_WAIT_MS for one.
  const started = Date.now();
  for (let i = 0; i < 10; i++) {
    const answer = await clientCredentials(gh.url, server, { scope: 'read' });
    expect(answer.status).toBe(200);
    issued.push(String(answer.body.access_token));
  }
  expect(Date.now() - started).toBeLessThan(1000);
});

test('no issued token was lost: every one still introspects active', async () => {
  for (const token of issued) expect(await isActive(gh.url, token, api)).toBe(true);
});

test('a person signed in before the failover is still signed in after it', async () => {
  const { form } = await authorizationCode(rp, signedIn);
  expect((await tokenRequest(gh.url, web, form)).status).toBe(200);
});

test('a code consumed before the failover cannot be redeemed again, even if the failover lost the consumption in Redis', async () => {
  // As if the promoted replica had never received the consumption: the mark in Postgres still holds.
  const codes = await artifactKeys(redis.replica, 'AuthorizationCode');
  expect(codes.length).toBeGreaterThan(0);
  for (const key of codes) expect(await redis.replica.client.hdel(key, 'consumed')).toBe(1);
  const replay = await tokenRequest(gh.url, web, consumed.form);
  expect(replay.status).toBe(400);
  expect(replay.body.error).toBe('invalid_grant');
  const marks = await gh.services.database.knex('consumed_markers').where({ model: 'AuthorizationCode' });
  expect(marks.length).toBeGreaterThan(0);
});

test('the CLI finds the promoted master through the sentinels: accounts disable ends the session kept there', async () => {
  const env = {
    DATABASE_URL: (gh.config.database as { url: string }).url,
    KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    REDIS_SENTINELS: redis.addresses,
    REDIS_SENTINEL_MASTER: redis.masterName,
    REDIS_URL: redis.url,
  };
  const run = await gatehouse(['accounts', 'disable', 'alice', '--json'], env);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(run.stdout)).toMatchObject({ username: 'alice', disabled: true, sessions_ended: 1 });
  expect(page(await signedIn.open((await rp.begin()).url)).html).toContain('name="password"');
});

test('with no sentinel answering, the server does not hang at start: it stops with an error naming them', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-sentinel-'));
  const run = startProcess({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', REDIS_SENTINELS: `127.0.0.1:${await freePort()}` });
  try {
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(1);
    expect(run.stderr()).toContain('All sentinels are unreachable');
  } finally {
    run.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 20_000);
