import { TtlCache, cacheStats } from '../../src/ttl_cache.ts';

const counter = () => {
  let calls = 0;
  return { load: async () => ++calls, get calls() { return calls; } };
};

test('concurrent misses for one key share one lookup, and the answer is kept', async () => {
  const cache = new TtlCache<number>('test', 60);
  const source = counter();
  expect(await Promise.all([cache.get('k', source.load), cache.get('k', source.load)])).toEqual([1, 1]);
  expect(await cache.get('k', source.load)).toBe(1);
  expect(source.calls).toBe(1);
});

test('a failed lookup is not kept: the next get asks again', async () => {
  const cache = new TtlCache<number>('test', 60);
  await expect(cache.get('k', async () => { throw new Error('down'); })).rejects.toThrow('down');
  expect(await cache.get('k', async () => 2)).toBe(2);
});

test('a forgotten lookup that fails later does not evict the answer loaded after it', async () => {
  const cache = new TtlCache<number>('test', 60);
  let fail!: (error: Error) => void;
  const stale = cache.get('k', () => new Promise<number>((_resolve, reject) => { fail = reject; }));
  cache.forget('k');
  expect(await cache.get('k', async () => 2)).toBe(2);
  fail(new Error('late failure'));
  await expect(stale).rejects.toThrow('late failure');
  expect(await cache.get('k', async () => 3)).toBe(2);
});

test('a time-to-live of 0 caches nothing', async () => {
  const cache = new TtlCache<number>('test', 0);
  const source = counter();
  await cache.get('k', source.load);
  await cache.get('k', source.load);
  expect(source.calls).toBe(2);
});

test('at the size limit the oldest entry makes room', async () => {
  const cache = new TtlCache<string>('test', 60, 2);
  await cache.get('a', async () => 'a1');
  await cache.get('b', async () => 'b1');
  await cache.get('c', async () => 'c1');
  expect(await cache.get('a', async () => 'a2')).toBe('a2');
  expect(await cache.get('c', async () => 'c2')).toBe('c1');
});

test('hits and misses are counted by cache name, across instances of one name, for /metrics', async () => {
  const first = new TtlCache<number>('counted', 60);
  const second = new TtlCache<number>('counted', 60);
  const uncached = new TtlCache<number>('counted-uncached', 0);
  const source = counter();
  // A get that joins a lookup in flight is a hit: it causes no lookup of its own.
  await Promise.all([first.get('k', source.load), first.get('k', source.load)]);
  await first.get('k', source.load);
  await second.get('k', source.load);
  await uncached.get('k', source.load);
  await uncached.get('k', source.load);
  expect(cacheStats().get('counted')).toEqual({ hits: 2, misses: 2 });
  expect(cacheStats().get('counted-uncached')).toEqual({ hits: 0, misses: 2 });
});
