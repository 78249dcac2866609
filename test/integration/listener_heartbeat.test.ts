import { ClientCache } from '../../src/storage/client_changes.ts';
import { adminQuery } from '../support/databases.ts';
import { TEST_POSTGRES_URL } from '../support/env.ts';
import { pollUntil } from '../support/poll.ts';
import { proxyInFront, type TcpProxy } from '../support/tcp_proxy.ts';

/**
 * The client-change listener behind a NAT or load balancer that forgets its idle connection
 * without a word: the provider must notice within seconds, stop trusting its cache, and listen
 * again, picking up what was announced meanwhile (a key rotation), not carry on deaf for hours.
 */
let proxy: TcpProxy;
let cache: ClientCache;

beforeAll(async () => {
  const through = await proxyInFront(TEST_POSTGRES_URL);
  proxy = through.proxy;
  cache = new ClientCache({ heartbeatMs: 200 });
  await cache.listen({ connectionString: through.url });
});

afterAll(async () => {
  await cache?.close();
  await proxy?.close();
});

test('a listening connection dropped silently is noticed: clients are read afresh and what was announced meanwhile is heard', async () => {
  const cached = cache.partition<number>();
  let loads = 0;
  const load = async () => ++loads;
  let reloads = 0;
  await cache.onNotify('gatehouse_test_heartbeat', () => void (reloads += 1));
  expect(await cached('some-client', load)).toBe(1);
  expect(await cached('some-client', load)).toBe(1);

  proxy.forget();
  const before = reloads;
  // Announced while the connection is gone: only a new connection can learn of it.
  await adminQuery("SELECT pg_notify('gatehouse_test_heartbeat', 'rotated')");

  expect(await pollUntil(() => cached('some-client', load), (value) => value > 1, 6000)).toBeGreaterThan(1);
  expect(await pollUntil(async () => reloads, (count) => count > before, 6000)).toBeGreaterThan(before);
});
