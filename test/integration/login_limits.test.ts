import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, type Step } from '../support/user_agent.ts';

const CB = 'https://portal.example.edu/cb';

async function attempt(rp: RelyingParty, username: string, password: string): Promise<Step> {
  const browser = new UserAgent(CB);
  return browser.signIn((await rp.begin()).url, username, password);
}

describe.each([
  ['the SQL store (no Redis)', false],
  ['Redis', true],
])('failed sign-ins are limited, kept in %s', (_store, redis) => {
  let gh: RunningGatehouse;
  let rp: RelyingParty;

  beforeAll(async () => {
    gh = await startGatehouse({ database: 'postgres', redis });
    const db = gh.services.database.knex;
    const client = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], consent: 'skip' });
    await createPerson(db, { username: 'dave', password: 'daves password' });
    await createPerson(db, { username: 'erin', password: 'erins password' });
    rp = await relyingParty(gh.url, client, CB);
  });
  afterAll(() => gh.close());

  test('per username: the sixth try within 15 minutes is refused with 429 and Retry-After', async () => {
    for (let i = 0; i < 5; i += 1) expect(await attempt(rp, 'dave', `wrong ${i}`)).toMatchObject({ status: 401 });
    const blocked = await attempt(rp, 'dave', 'daves password');
    expect(blocked).toMatchObject({ kind: 'page', status: 429 });
    if (blocked.kind === 'page') expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(800);
    // Another person is not affected by dave's attempts.
    expect((await attempt(rp, 'erin', 'erins password')).kind).toBe('callback');
  });

  test('per client IP: thirty failures over many usernames block that address, even for a right password', async () => {
    for (let i = 0; i < 30; i += 1) await attempt(rp, `spray-${i}`, 'Winter2026!');
    const blocked = await attempt(rp, 'erin', 'erins password');
    expect(blocked).toMatchObject({ kind: 'page', status: 429 });
  });
});
