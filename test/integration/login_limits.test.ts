import { startGatehouse, type RunningGatehouse, type StartOptions } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page, type Step } from '../support/user_agent.ts';

const CB = 'https://portal.example.edu/cb';

/**
 * Where a sign-in comes from: a loopback address of its own (Gatehouse sees 127.0.0.2 and
 * 127.0.0.1 as two machines, no proxy, no forwarded header, as it sees two people on the
 * internet), or any address a trusted proxy names in X-Forwarded-For (TRUST_PROXY=1).
 */
type From = string | { forwardedFor: string };

async function attempt(rp: RelyingParty, username: string, password: string, from: From = '127.0.0.1'): Promise<Step> {
  const browser = typeof from === 'string' ? new UserAgent(CB).from(from) : new UserAgent(CB).forwardedFor(from.forwardedFor);
  return browser.signIn((await rp.begin()).url, username, password);
}

/** Statuses of wrong guesses sent `parallel` at a time, each on a sign-in page of its own (the i-th from `from(i)`, if a function). */
async function guesses(rp: RelyingParty, usernames: string[], from: From | ((i: number) => From), parallel = 10): Promise<number[]> {
  const statuses: number[] = [];
  for (let start = 0; start < usernames.length; start += parallel) {
    const batch = usernames.slice(start, start + parallel);
    statuses.push(...(await Promise.all(batch.map(async (username, i) => {
      const origin = typeof from === 'function' ? from(start + i) : from;
      return page(await attempt(rp, username, `Winter2026-${start + i}`, origin)).status;
    }))));
  }
  return statuses;
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

/** As if a window of the per-account-and-address limit had ended: its counts are gone from the store. */
async function endWindow(gh: RunningGatehouse, tier: 1 | 2): Promise<void> {
  const redis = gh.services.redis;
  if (!redis) {
    await gh.services.database.knex('rate_limits').where('key', 'like', `login-pair-${tier}:%`).delete();
    return;
  }
  const keys = await redis.keys(`${gh.redisPrefix}login-pair-${tier}:*`);
  if (keys.length) await redis.del(...keys);
}

async function retryAfter(step: Step): Promise<number> {
  const blocked = page(step);
  expect(blocked.status).toBe(429);
  return Number(blocked.headers.get('retry-after'));
}

describe.each<[string, StartOptions]>([
  ['Postgres (no Redis)', { database: 'postgres', redis: false }],
  ['Redis', { database: 'postgres', redis: true }],
  ['the embedded database', { database: 'embedded', redis: false }],
])('failed sign-ins are limited, counted in %s', (_store, options) => {
  let gh: RunningGatehouse;
  let rp: RelyingParty;

  beforeAll(async () => {
    gh = await startGatehouse(options);
    const db = gh.services.database.knex;
    const client = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], consent: 'skip' });
    for (const name of ['dave', 'erin', 'frank', 'grace', 'ivan', 'judy', 'kim']) await createPerson(db, { username: name, password: `${name}s password` });
    rp = await relyingParty(gh.url, client, CB);
  });
  afterAll(() => gh.close());

  test('24 wrong passwords sent at once on one sign-in page: 5 are checked, 19 refused with 429, and then the right one is refused too', async () => {
    const browser = new UserAgent(CB);
    const login = page(await browser.open((await rp.begin()).url));
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => browser.submit(login, '/login', { username: 'dave', password: `wrong ${i}` })));
    const statuses = answers.map((answer) => page(answer).status);
    expect({ checked: count(statuses, 401), refused: count(statuses, 429) }).toEqual({ checked: 5, refused: 19 });
    const blocked = page(await browser.submit(login, '/login', { username: 'dave', password: 'daves password' }));
    expect(blocked.status).toBe(429);
    expect(blocked.html).toContain('Too many failed attempts');
    // The first of the growing waits: at most five minutes.
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(300);
  });

  test('the owner signs in from their own address while someone guessing their password at another address is locked out', async () => {
    const statuses = await guesses(rp, Array(8).fill('erin'), '127.0.0.2', 1);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(page(await attempt(rp, 'erin', 'erins password', '127.0.0.2')).status).toBe(429);
    expect((await attempt(rp, 'erin', 'erins password', '127.0.0.1')).kind).toBe('callback');
  });

  test('guesses from many addresses lock the account for a new address, never for one its owner signed in from', async () => {
    expect((await attempt(rp, 'frank', 'franks password', '127.0.0.1')).kind).toBe('callback');
    // Ten machines, five guesses each: the account's limit of 50 an hour.
    for (let machine = 10; machine < 20; machine += 1) {
      expect(count(await guesses(rp, Array(5).fill('frank'), `127.0.0.${machine}`), 401)).toBe(5);
    }
    expect(page(await attempt(rp, 'frank', 'franks password', '127.0.0.20')).status).toBe(429);
    expect((await attempt(rp, 'frank', 'franks password', '127.0.0.1')).kind).toBe('callback');
  });

  test('a password sprayer locks its address for people new there, not for those who signed in from it before; one account guessed there locks nobody', async () => {
    expect((await attempt(rp, 'grace', 'graces password', '127.0.0.3')).kind).toBe('callback');
    // One account guessed over and over from a campus NAT: its own limit stops it, the others are not touched.
    expect(count(await guesses(rp, Array(30).fill('dave'), '127.0.0.3'), 401)).toBe(5);
    expect((await attempt(rp, 'ivan', 'ivans password', '127.0.0.3')).kind).toBe('callback');
    // A hundred accounts tried once each: the address's limit.
    const sprayed = await guesses(rp, Array.from({ length: 100 }, (_, i) => `spray-${i}`), '127.0.0.3');
    expect(count(sprayed, 401)).toBe(95);
    expect(page(await attempt(rp, 'judy', 'judys password', '127.0.0.3')).status).toBe(429);
    expect((await attempt(rp, 'grace', 'graces password', '127.0.0.3')).kind).toBe('callback');
    expect((await attempt(rp, 'judy', 'judys password', '127.0.0.4')).kind).toBe('callback');
  });

  test('the waits grow: after 5 guesses up to 5 minutes, after 10 up to an hour, after 20 the rest of the day', async () => {
    const from = '127.0.0.5';
    expect(await guesses(rp, Array(5).fill('kim'), from, 1)).toEqual([401, 401, 401, 401, 401]);
    const first = await retryAfter(await attempt(rp, 'kim', 'kims password', from));
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(5 * 60);
    await endWindow(gh, 1);
    expect(count(await guesses(rp, Array(6).fill('kim'), from, 1), 401)).toBe(5);
    const second = await retryAfter(await attempt(rp, 'kim', 'kims password', from));
    expect(second).toBeGreaterThan(5 * 60);
    expect(second).toBeLessThanOrEqual(60 * 60);
    // The hour has passed: 5 more, a short wait, 5 more, and the day's 20 are used up.
    await endWindow(gh, 1);
    await endWindow(gh, 2);
    expect(count(await guesses(rp, Array(6).fill('kim'), from, 1), 401)).toBe(5);
    await endWindow(gh, 1);
    expect(count(await guesses(rp, Array(6).fill('kim'), from, 1), 401)).toBe(5);
    const blocked = await attempt(rp, 'kim', 'kims password', from);
    expect(await retryAfter(blocked)).toBeGreaterThan(60 * 60);
    expect(page(blocked).html).toMatch(/Try again in (2[0-4]|1\d) hours\./);
  });
});

describe('IPv6 clients behind a trusted proxy (TRUST_PROXY=1) are counted per /64, the block one machine is given', () => {
  let gh: RunningGatehouse;
  let rp: RelyingParty;

  beforeAll(async () => {
    gh = await startGatehouse({ env: { TRUST_PROXY: '1' } });
    const db = gh.services.database.knex;
    const client = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], consent: 'skip' });
    for (const name of ['leo', 'mia']) await createPerson(db, { username: name, password: `${name}s password` });
    rp = await relyingParty(gh.url, client, CB);
  });
  afterAll(() => gh.close());

  test('guesses at one account from eight addresses of one /64, some the same address spelled differently, are one address\'s: 5 are checked; the owner signs in from another /64', async () => {
    const addresses = ['2001:db8::1', '2001:db8::2', '2001:DB8::1', '2001:db8:0:0::0:1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::ffff:1234', '2001:db8::dead:beef', '2001:db8:0:0:1:2:3:4'];
    expect(await guesses(rp, Array(8).fill('leo'), (i) => ({ forwardedFor: addresses[i]! }), 1)).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(page(await attempt(rp, 'leo', 'leos password', { forwardedFor: '2001:db8::77' })).status).toBe(429);
    expect((await attempt(rp, 'leo', 'leos password', { forwardedFor: '2001:db8:0:1::1' })).kind).toBe('callback');
  });

  test('a password sprayer taking a new address of its /64 for every guess is held to one address\'s 100; people elsewhere still sign in', async () => {
    const sprayed = await guesses(rp, Array.from({ length: 110 }, (_, i) => `spray-${i}`), (i) => ({ forwardedFor: `2001:db8:5:0:${i.toString(16)}::1` }));
    expect({ checked: count(sprayed, 401), refused: count(sprayed, 429) }).toEqual({ checked: 100, refused: 10 });
    expect(page(await attempt(rp, 'mia', 'mias password', { forwardedFor: '2001:db8:5::abcd' })).status).toBe(429);
    expect((await attempt(rp, 'mia', 'mias password', { forwardedFor: '2001:db8:6::abcd' })).kind).toBe('callback');
  });
});
