/**
 * How long a request waits for its 503 while Postgres or Redis is partitioned (connections
 * open, nothing answered): Gatehouse on the suite's Postgres and Redis, each behind a TCP
 * proxy that freezes, and a bounded number of requests on loopback that each need the frozen
 * backend. Prints p50, p99 and the slowest per partition, and any answer that was not a 503.
 *
 *   node bench/partition_bound.ts [requests per partition, default 200] [concurrency, default 10]
 */
import { performance } from 'node:perf_hooks';
import { startGatehouse } from '../test/support/gatehouse.ts';
import { createPostgresDatabase } from '../test/support/databases.ts';
import { proxyInFront, type TcpProxy } from '../test/support/tcp_proxy.ts';
import { registerClient, type RegisteredClient } from '../test/support/clients.ts';
import { createPerson } from '../test/support/accounts.ts';
import { relyingParty } from '../test/support/relying_party.ts';
import { UserAgent } from '../test/support/user_agent.ts';
import { clientCredentials, introspect } from '../test/support/http.ts';
import { TEST_REDIS_URL } from '../test/support/env.ts';

const REQUESTS = Number(process.argv[2] ?? 200);
const CONCURRENCY = Number(process.argv[3] ?? 10);
const CALLBACK = 'https://app.example.edu/cb';

const testDb = await createPostgresDatabase();
const { proxy: pgProxy, url: pgUrl } = await proxyInFront((testDb.config as { url: string }).url);
const { proxy: redisProxy, url: redisUrl } = await proxyInFront(TEST_REDIS_URL);
const gh = await startGatehouse({ databaseConfig: { kind: 'postgres', url: pgUrl }, redisUrl });
const db = gh.services.database.knex;

const job = await registerClient(db, { name: 'Job', kind: 'server', scopes: 'read' });
const api = await registerClient(db, { name: 'API', kind: 'resource-server' });
// Clients the cache has not seen: each token request in the Postgres partition must read its client.
const unseen: RegisteredClient[] = [];
for (let i = 0; i < REQUESTS; i += 1) unseen.push(await registerClient(db, { name: `Job ${i}`, kind: 'server', scopes: 'read' }));
await createPerson(db, { username: 'alice', password: 'correct horse battery' });
const web = await registerClient(db, { name: 'App', kind: 'web', 'redirect-uri': [CALLBACK], scopes: 'openid' });
const app = await relyingParty(gh.url, web, CALLBACK);
const browser = new UserAgent(CALLBACK);
const request = await app.begin();
const consent = await browser.signIn(request.url, 'alice', 'correct horse battery');
const { access_token: userToken } = await app.finish((await browser.submit(consent, '/confirm')).url, request);
const issued = String((await clientCredentials(gh.url, job, { scope: 'read' })).body.access_token);

const status = async (response: Promise<Response>) => {
  const got = await response;
  await got.arrayBuffer();
  return got.status;
};
const userinfo = () => status(fetch(`${gh.url}/me`, { headers: { authorization: `Bearer ${userToken}` } }));
const readyz = () => status(fetch(`${gh.url}/readyz`));

/** The i-th request of a partition: token, userinfo, introspection and readiness in turn. */
type Ask = (i: number) => Promise<number>;
const postgresAsks: Record<string, Ask> = {
  token: async (i) => (await clientCredentials(gh.url, unseen[i]!, { scope: 'read' })).status,
  userinfo,
  readyz,
};
const redisAsks: Record<string, Ask> = {
  token: async () => (await clientCredentials(gh.url, job, { scope: 'read' })).status,
  introspection: async () => (await introspect(gh.url, issued, api)).status,
  userinfo,
  readyz,
};

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(0);
const summary = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 0.5)} ms, p99 ${percentile(sorted, 0.99)} ms, max ${percentile(sorted, 1)} ms`;
};

async function measure(name: string, proxy: TcpProxy, asks: Record<string, Ask>): Promise<void> {
  const names = Object.keys(asks);
  const times = new Map<string, number[]>(names.map((ask) => [ask, []]));
  const statuses = new Map<number, number>();
  let next = 0;
  proxy.freeze();
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < REQUESTS; i = next++) {
      const ask = names[i % names.length]!;
      const start = performance.now();
      const code = await asks[ask]!(i);
      times.get(ask)!.push(performance.now() - start);
      statuses.set(code, (statuses.get(code) ?? 0) + 1);
    }
  }));
  const wall = performance.now() - started;
  proxy.thaw();
  console.log(`${name} partition: ${REQUESTS} requests, ${CONCURRENCY} at a time, ${(wall / 1000).toFixed(1)} s; ` +
    `all: ${summary([...times.values()].flat())}; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  for (const [ask, taken] of times) console.log(`  ${ask}: ${summary(taken)}`);
}

try {
  await measure('Postgres', pgProxy, postgresAsks);
  await measure('Redis', redisProxy, redisAsks);
} finally {
  await gh.close();
  await Promise.all([pgProxy.close(), redisProxy.close()]);
  await testDb.drop();
}
