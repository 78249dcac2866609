import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, oidc, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent } from '../support/user_agent.ts';
import { startCasServer, type CasServer } from '../support/cas_server.ts';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';
import { migrateLatest, openDatabase, type Database } from '../../src/storage/database.ts';
import { migrationSource } from '../../migrations/index.ts';
import { AccountStore } from '../../src/storage/accounts.ts';
import { GroupMembers } from '../../src/storage/group_members.ts';
import { addGroupMember } from '../../src/admin/account_commands.ts';

const CB = 'https://portal.example.edu/cb';

/** Signs in through the pages and answers who the application was told signed in. */
async function signedInAs(rp: RelyingParty, browse: (url: string) => Promise<{ kind: string; url: string }>): Promise<{ sub: string; preferred_username: unknown }> {
  const request = await rp.begin({ scope: 'openid profile' });
  const callback = await browse(request.url);
  expect(callback.kind).toBe('callback');
  const tokens = await rp.finish(callback.url, request);
  const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
  return { sub: userinfo.sub, preferred_username: userinfo.preferred_username };
}

describe('local accounts: one identity per username, however it is typed', () => {
  let gh: RunningGatehouse;
  let rp: RelyingParty;
  let alice: string;

  beforeAll(async () => {
    gh = await startGatehouse({ database: 'postgres', redis: false });
    const db = gh.services.database.knex;
    const client = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], consent: 'skip', scopes: 'openid profile groups' });
    alice = await createPerson(db, { username: 'alice', password: 'alices password' });
    rp = await relyingParty(gh.url, client, CB);
  });
  afterAll(() => gh.close());

  test.each(['Alice', ' ALICE ', 'ａｌｉｃｅ'])('accounts create refuses %j next to alice: the account exists', async (username) => {
    await expect(createPerson(gh.services.database.knex, { username, password: 'another password' })).rejects.toThrow(/an account named alice exists/i);
    expect(await gh.services.database.knex('accounts').count()).toEqual([{ count: '1' }]);
  });

  test.each(['Alice', ' ALICE ', 'ａｌｉｃｅ'])('alice signs in typing %j and applications see alice, as the account was created', async (typed) => {
    const who = await signedInAs(rp, (url) => new UserAgent(CB).signIn(url, typed, 'alices password'));
    expect(who).toEqual({ sub: alice, preferred_username: 'alice' });
  });

  test('a group member added as ALICE is alice: her groups claim has the group', async () => {
    await addGroupMember('staff', 'ALICE')(gh.services.database.knex);
    const request = await rp.begin({ scope: 'openid groups' });
    const callback = await new UserAgent(CB).signIn(request.url, 'alice', 'alices password');
    const tokens = await rp.finish(callback.url, request);
    expect((await oidc.fetchUserInfo(rp.config, tokens.access_token, alice)).groups).toEqual(['staff']);
  });
});

describe('CAS: one account per username, whatever case CAS sends', () => {
  let gh: RunningGatehouse;
  let cas: CasServer;
  let rp: RelyingParty;

  beforeAll(async () => {
    cas = await startCasServer();
    gh = await startGatehouse({ database: 'postgres', redis: false, env: { IDENTITY: 'cas', CAS_URL: cas.url } });
    const client = await registerClient(gh.services.database.knex, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], consent: 'skip', scopes: 'openid profile' });
    rp = await relyingParty(gh.url, client, CB);
  });
  afterAll(async () => {
    await gh.close();
    await cas.close();
  });

  test('JDoe then jdoe: the same subject, shown as JDoe, the spelling of the first sign-in', async () => {
    cas.signInAs('JDoe', { mail: ['jdoe@example.edu'] });
    const first = await signedInAs(rp, (url) => new UserAgent(CB).open(url));
    cas.signInAs('jdoe', { mail: ['jdoe@example.edu'] });
    const second = await signedInAs(rp, (url) => new UserAgent(CB).open(url));
    expect(first).toEqual({ sub: expect.any(String), preferred_username: 'JDoe' });
    expect(second).toEqual(first);
  });
});

describe('the migration that makes usernames one identity each, on a database that already has alice and Alice', () => {
  let testDb: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    testDb = await createPostgresDatabase();
    db = await openDatabase(testDb.config);
    // The schema as it was before the migration, with the accounts it let in.
    for (const name of ['20261127000000_foundation', '20261127010000_accounts', '20261127020000_enterprise_scopes']) await db.knex.migrate.up({ migrationSource, name });
    await db.knex('accounts').insert([
      { id: 'older-alice', username: 'alice', source: 'cas', created_at: new Date('2026-01-01') },
      { id: 'newer-alice', username: 'Alice', source: 'cas', created_at: new Date('2026-02-01') },
      { id: 'bob', username: 'Bob', source: 'local' },
      { id: 'older-carol', username: 'Carol', source: 'cas', created_at: new Date('2026-01-01') },
      { id: 'newer-carol', username: 'carol', source: 'cas', created_at: new Date('2026-02-01') },
    ]);
    await db.knex('group_members').insert([
      { group_name: 'staff', username: 'Alice' }, { group_name: 'staff', username: 'alice' }, { group_name: 'staff', username: 'Bob' },
      // The newer accounts' own groups.
      { group_name: 'admins', username: 'Alice' }, { group_name: 'editors', username: 'carol' }, { group_name: 'staff', username: 'Carol' },
    ]);
    await migrateLatest(db.knex);
  });
  afterAll(async () => {
    await db.close();
    await testDb.drop();
  });

  test('every spelling finds the older alice; Alice keeps its row but no sign-in reaches it; Bob is found as bob', async () => {
    const accounts = new AccountStore(db.knex);
    for (const typed of ['alice', 'Alice', 'ALICE']) expect((await accounts.findByUsername(typed))?.id).toBe('older-alice');
    expect((await accounts.findById('newer-alice'))?.username).toBe('Alice');
    expect((await accounts.findByUsername('bob'))).toMatchObject({ id: 'bob', username: 'Bob' });
    // A CAS sign-in as Alice is the older alice's, and no third spelling can be created.
    expect((await accounts.recordCasLogin('Alice', {})).id).toBe('older-alice');
    await expect(createPerson(db.knex, { username: 'aLiCe', password: 'a new password' })).rejects.toThrow(/exists/);
  });

  test('the older alice keeps her own groups, not those of the newer Alice; Bob\'s are found by any spelling', async () => {
    const members = new GroupMembers(db.knex);
    expect(await members.groupsOf('alice')).toEqual(['staff']);
    expect(await members.groupsOf('ALICE')).toEqual(['staff']);
    expect(await members.groupsOf('BOB')).toEqual(['staff']);
    // Alice's membership of admins stays as written and, like her account, matches nobody.
    expect((await members.list()).find((group) => group.group === 'admins')).toEqual({ group: 'admins', members: ['Alice'] });
  });

  test('when the older account is Carol, the newer carol\'s groups are not hers', async () => {
    const members = new GroupMembers(db.knex);
    expect(await members.groupsOf('carol')).toEqual(['staff']);
    // Set aside under a name no one can sign in as, for the operator to move after renaming.
    expect((await members.list()).find((group) => group.group === 'editors')).toEqual({ group: 'editors', members: ['carol [duplicate account]'] });
  });
});
