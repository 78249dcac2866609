import { AnswerCache } from '../../src/rs/answer_cache.ts';

const later = (ms: number) => Date.now() + ms;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('concurrent gets of one uncached key share one load', async () => {
  const cache = new AnswerCache<string>(10);
  let loads = 0;
  const load = async () => {
    loads++;
    await sleep(20);
    return { value: 'active', expires: later(1000) };
  };
  expect(await Promise.all([cache.get('t', load), cache.get('t', load), cache.get('t', load)])).toEqual(['active', 'active', 'active']);
  expect(await cache.get('t', load)).toBe('active');
  expect(loads).toBe(1);
});

test('each answer is kept until its own expiry, then loaded again', async () => {
  const cache = new AnswerCache<number>(10);
  let loads = 0;
  const load = (ttl: number) => async () => ({ value: ++loads, expires: later(ttl) });
  expect(await cache.get('short', load(30))).toBe(1);
  expect(await cache.get('long', load(10_000))).toBe(2);
  await sleep(50);
  expect(await cache.get('short', load(30))).toBe(3);
  expect(await cache.get('long', load(10_000))).toBe(2);
});

test('an answer already expired (a cache bound of 0) is not kept', async () => {
  const cache = new AnswerCache<number>(10);
  let loads = 0;
  const load = async () => ({ value: ++loads, expires: Date.now() });
  await cache.get('t', load);
  expect(await cache.get('t', load)).toBe(2);
});

test('a failed load is not kept: the next get tries again', async () => {
  const cache = new AnswerCache<string>(10);
  await expect(cache.get('t', async () => { throw new Error('down'); })).rejects.toThrow('down');
  expect(await cache.get('t', async () => ({ value: 'back', expires: later(1000) }))).toBe('back');
});

test('beyond its size the oldest entry goes first', async () => {
  const cache = new AnswerCache<string>(2);
  let loads = 0;
  const load = (value: string) => async () => {
    loads++;
    return { value, expires: later(10_000) };
  };
  await cache.get('a', load('a'));
  await cache.get('b', load('b'));
  await cache.get('c', load('c'));
  expect(loads).toBe(3);
  await cache.get('c', load('c'));
  await cache.get('b', load('b'));
  expect(loads).toBe(3);
  await cache.get('a', load('a'));
  expect(loads).toBe(4);
});
