import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { adapterFor } from '../../src/storage/adapter_router.ts';
import { grantsOf } from '../../src/storage/grants.ts';
import { openRedis, type Redis } from '../../src/storage/redis.ts';
import { disableAccount } from '../../src/admin/offboarding_commands.ts';
import { deleteRedisKeys, uniqueRedisPrefix } from '../support/databases.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { cliDatabase, gatehouse, gatehouseEach, type AuditJson } from '../support/cli.ts';

const { env, db } = cliDatabase();
let dir: string;

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'gh-audit-')); });
afterAll(() => rm(dir, { recursive: true, force: true }));

// Each call is a node process (about a second): a generous bound for a machine shared with other runs.
const SLOW = 120_000;

const OPERATOR = `cli:${userInfo().username}`;

/** Runs the real CLI and expects it to succeed; returns its JSON. */
async function ok(args: string[], stdin?: string): Promise<Record<string, any>> {
  const run = await gatehouse([...args, '--json'], env, stdin);
  expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
  return JSON.parse(run.stdout) as Record<string, any>;
}

/** A Grant as oidc-provider stores it when a person allows a client. */
async function grant(accountId: string, clientId: string): Promise<string> {
  const id = randomUUID();
  await adapterFor({ db: db() }, 'Grant').upsert(id, { kind: 'Grant', jti: id, accountId, clientId, iat: Math.floor(Date.now() / 1000), openid: { scope: 'openid' } }, 3600);
  return id;
}


const audit = async () => (await ok(['audit'])) as unknown as AuditJson[];

test('every change made through the CLI is recorded with the operating-system user, what changed and never a secret or password', async () => {
  const [web, , alice] = await Promise.all([
    ok(['clients', 'create', '--name', 'Portal', '--kind', 'web', '--redirect-uri', 'https://portal.example.edu/cb']),
    ok(['scopes', 'define', 'grades', '--group', 'registrar', '--description', 'See your grades']),
    ok(['accounts', 'create', '--username', 'alice', '--password-stdin', '--email', 'alice@example.edu'], 'first long password\n'),
  ]);
  const [updated, unchanged] = [
    await ok(['clients', 'update', web.client_id, '--scopes', 'openid email', '--new-secret']),
    await ok(['clients', 'update', web.client_id, '--scopes', 'openid email']),
  ];
  expect(unchanged.client_secret).toBeUndefined();
  await ok(['groups', 'add-member', 'registrar', 'ALICE']);
  await ok(['groups', 'add-member', 'registrar', 'alice']);
  await ok(['groups', 'remove-member', 'registrar', 'alice']);
  await ok(['accounts', 'set-password', 'alice', '--password-stdin'], 'second long password\n');
  await grant(alice.sub, web.client_id);
  await grant(alice.sub, web.client_id);
  await grant(alice.sub, 'wiki');
  // A help-desk look at which applications a person uses is recorded too.
  expect(await ok(['grants', 'list', '--user', 'alice', '--client', web.client_id])).toHaveLength(2);
  expect(await ok(['grants', 'revoke', '--user', 'alice', '--client', web.client_id])).toMatchObject({ revoked: 2 });
  expect(await ok(['accounts', 'disable', 'alice'])).toMatchObject({ grants_revoked: 1 });
  // Done again (finishing a run cut short): nothing more to record.
  expect(await ok(['accounts', 'disable', 'alice'])).toMatchObject({ grants_revoked: 0 });
  await ok(['accounts', 'enable', 'alice']);
  const rotated = (await ok(['keys', 'rotate']) as unknown as { keys: { kid: string; activates_at: string }[] }).keys;
  await ok(['clients', 'delete', web.client_id]);
  const newKey = join(dir, 'kek');
  await writeFile(newKey, randomBytes(32).toString('base64'));
  const resealed = await ok(['keys', 're-encrypt', '--new-key-file', newKey]);
  // As the operator then gives every server the new key.
  env.KEY_ENCRYPTION_KEY = (await readFile(newKey, 'utf8')).trim();

  const recorded = await audit();
  expect(new Set(recorded.map((e) => e.actor))).toEqual(new Set([OPERATOR]));
  const seen = recorded.map(({ event, username, client_id, detail }) => ({ event, username, client_id, detail }));
  const sortedFields = (...names: string[]) => names.sort();
  // create, scope and account ran at once: their order is the database's.
  expect(seen.slice(0, 3)).toEqual(expect.arrayContaining([
    {
      event: 'client.created', username: null, client_id: web.client_id,
      detail: {
        kind: 'web', client_name: 'Portal',
        fields: sortedFields('access_token_format', 'allowed_scopes', 'application_type', 'client_name', 'client_secret', 'consent', 'grant_types', 'kind',
          'organizations', 'post_logout_redirect_uris', 'redirect_uris', 'response_types', 'restricted', 'scope', 'token_endpoint_auth_method'),
      },
    },
    { event: 'scope.defined', username: null, client_id: null, detail: { scope: 'grades', group: 'registrar' } },
    { event: 'account.created', username: 'alice', client_id: null, detail: {} },
  ]));
  expect(seen.slice(3)).toEqual([
    // The secret was rotated: the record says so by the field's name.
    { event: 'client.updated', username: null, client_id: web.client_id, detail: { fields: ['allowed_scopes', 'client_secret', 'scope'] } },
    // Adding a member already there changes nothing, and is not recorded.
    { event: 'group.member_added', username: 'alice', client_id: null, detail: { group: 'registrar' } },
    { event: 'group.member_removed', username: 'alice', client_id: null, detail: { group: 'registrar' } },
    { event: 'account.password_changed', username: 'alice', client_id: null, detail: {} },
    { event: 'grants.listed', username: 'alice', client_id: web.client_id, detail: { grants: 2 } },
    { event: 'grants.revoked', username: 'alice', client_id: web.client_id, detail: { grants: 2, clients: [web.client_id] } },
    { event: 'account.disabled', username: 'alice', client_id: null, detail: {} },
    { event: 'grants.revoked', username: 'alice', client_id: null, detail: { grants: 1, clients: ['wiki'] } },
    { event: 'account.enabled', username: 'alice', client_id: null, detail: {} },
    { event: 'key.rotated', username: null, client_id: null, detail: { purpose: 'main', kids: rotated.map((k) => k.kid), activates_at: rotated[0]!.activates_at } },
    { event: 'client.deleted', username: null, client_id: web.client_id, detail: { kind: 'web', client_name: 'Portal' } },
    { event: 'key.resealed', username: null, client_id: null, detail: { sealed: resealed.sealed, key_id: resealed.key_id, previous_key_id: resealed.previous_key_id } },
  ]);
  expect(recorded.filter((e) => e.username === 'alice').every((e) => e.sub === alice.sub)).toBe(true);

  const everything = JSON.stringify(recorded) + JSON.stringify(await db()('audit_events').select('*'));
  for (const secret of [web.client_secret, updated.client_secret, 'first long password', 'second long password']) {
    expect(typeof secret).toBe('string');
    expect(everything).not.toContain(secret);
  }
}, SLOW);

describe('a command whose audit record cannot be written changes nothing', () => {
  let client: Record<string, any>;
  let bob: Record<string, any>;
  let grantId: string;
  let registrationTokenId: string;

  beforeAll(async () => {
    client = await ok(['clients', 'create', '--name', 'Library', '--kind', 'web', '--redirect-uri', 'https://library.example.edu/cb']);
    bob = await ok(['accounts', 'create', '--username', 'bob', '--password-stdin'], 'bobs long password\n');
    grantId = await grant(bob.sub, client.client_id);
    registrationTokenId = (await ok(['registration-token', 'create', '--kind', 'web'])).id as string;
    const erin = await ok(['accounts', 'create', '--username', 'erin', '--password-stdin'], 'erins long password\n');
    await db()('accounts').where({ id: erin.sub }).update({ disabled_at: new Date() });
    // The last write of each command fails, as a constraint, a full disk or a lost connection would.
    await db().raw(`CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$;
      CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()`);
  });
  afterAll(() => db().raw('DROP TRIGGER refuse_audit ON audit_events; DROP FUNCTION refuse_audit()'));

  test('clients, scopes, accounts, groups, grants, keys and registration tokens: exit 1 with one line, and the database as it was', async () => {
    const snapshot = async () => ({
      clients: await db()('oidc_models').where({ model: 'Client' }).orderBy('id').select('id', 'payload'),
      accounts: await db()('accounts').orderBy('id').select('id', 'password_hash', 'disabled_at'),
      scopes: await db()('enterprise_scopes').select('name'),
      members: await db()('group_members').select('*'),
      keys: await db()('signing_keys').orderBy('kid').select('kid', 'retired_at', 'private_jwk'),
      settings: await db()('settings').orderBy('name').select('*'),
      registrationTokens: await db()('registration_tokens').orderBy('id').select('*'),
      grants: await db()('oidc_models').where({ model: 'Grant' }).pluck('id'),
      audit: await db()('audit_events').count({ n: '*' }),
    });
    const before = await snapshot();
    expect(before.grants).toContain(grantId);
    const newKey = join(dir, 'unused-kek');
    await writeFile(newKey, randomBytes(32).toString('base64'));
    const calls: [string[], string?][] = [
      [['clients', 'create', '--name', 'Ghost', '--kind', 'server']],
      [['clients', 'update', client.client_id, '--name', 'Renamed', '--new-secret']],
      [['clients', 'delete', client.client_id]],
      [['scopes', 'define', 'shelves', '--group', 'librarians', '--description', 'Your shelves']],
      [['accounts', 'create', '--username', 'ghost', '--password-stdin'], 'a long password\n'],
      [['accounts', 'set-password', 'bob', '--password-stdin'], 'another long password\n'],
      [['groups', 'add-member', 'librarians', 'bob']],
      [['accounts', 'disable', 'bob']],
      [['grants', 'revoke', '--user', 'bob']],
      // A look that cannot be recorded is not shown.
      [['grants', 'list', '--user', 'bob']],
      [['keys', 'rotate']],
      [['keys', 're-encrypt', '--new-key-file', newKey]],
      [['accounts', 'enable', 'erin']],
      [['registration-token', 'create', '--kind', 'web']],
      [['registration-token', 'revoke', registrationTokenId]],
    ];
    const runs = await gatehouseEach(calls, env);
    expect(runs.map((run, i) => ({ args: calls[i]![0], ...run }))).toEqual(calls.map(([args]) => ({
      args, code: 1, stdout: '', stderr: 'gatehouse: failed: audit log unavailable (SQLSTATE P0001)\n',
    })));
    expect(await snapshot()).toEqual(before);
  }, SLOW);
});

describe('accounts disable cut short by a lost Redis connection', () => {
  let redis: Redis;
  const redisPrefix = uniqueRedisPrefix();

  beforeAll(async () => { redis = await openRedis(TEST_REDIS_URL); });
  afterAll(async () => {
    await deleteRedisKeys(redis, redisPrefix);
    await redis.quit();
  });

  test('Redis unreachable from the start: grants revoke changes nothing; accounts disable still refuses sign-in at once and says what is left', async () => {
    const dora = await ok(['accounts', 'create', '--username', 'dora', '--password-stdin'], 'doras long password\n');
    const grantId = await grant(dora.sub, 'portal');
    const started = Date.now();
    // Nothing listens on port 1: every connect is refused at once.
    const unreachable = { ...env, REDIS_URL: 'redis://127.0.0.1:1' };
    const revoke = await gatehouse(['grants', 'revoke', '--user', 'dora'], unreachable);
    expect(revoke).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/^gatehouse: failed: cannot reach Redis \(.+\)\n$/) });
    expect(await grantsOf(db(), dora.sub)).toEqual([expect.objectContaining({ grantId })]);
    expect(await db()('audit_events').where({ username: 'dora' }).pluck('event')).toEqual(['account.created']);

    const disable = await gatehouse(['accounts', 'disable', 'dora'], unreachable);
    expect(disable).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(/^gatehouse: failed: dora is disabled and cannot sign in, but revoking its grants and ending its sessions failed \(cannot reach Redis \(.+\)\): run the command again to finish\n$/),
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await db()('accounts').where({ username: 'dora' }).first()).disabled_at).toBeInstanceOf(Date);
    expect(await grantsOf(db(), dora.sub)).toEqual([expect.objectContaining({ grantId })]);
    expect(await db()('audit_events').where({ username: 'dora' }).pluck('event')).toEqual(['account.created', 'account.disabled']);
  }, SLOW);

  test('leaves the account disabled and the revocation recorded; running it again revokes the rest and records only that', async () => {
    const carol = await ok(['accounts', 'create', '--username', 'carol', '--password-stdin'], 'carols long password\n');
    const grantId = await grant(carol.sub, 'portal');
    const tokenId = randomUUID();
    const tokens = adapterFor({ db: db(), redis, redisPrefix }, 'AccessToken');
    await tokens.upsert(tokenId, { kind: 'AccessToken', jti: tokenId, grantId, accountId: carol.sub, clientId: 'portal' }, 3600);
    const events = async () => (await db()('audit_events').where({ username: 'carol' }).orderBy('id').select('event', 'detail'))
      .map((row: { event: string; detail: Record<string, unknown> }) => [row.event, row.detail]);

    // The connection is gone by the time the tokens are to be deleted.
    const lost = await openRedis(TEST_REDIS_URL);
    lost.disconnect();
    await expect(disableAccount(db(), async () => ({ db: db(), redis: lost, redisPrefix }), 'carol')).rejects.toThrow(/carol is disabled and cannot sign in/);
    expect((await db()('accounts').where({ id: carol.sub }).first()).disabled_at).toBeInstanceOf(Date);
    expect(await grantsOf(db(), carol.sub)).toEqual([expect.objectContaining({ grantId })]);
    expect(await tokens.find(tokenId)).toMatchObject({ grantId });
    expect(await events()).toEqual([['account.created', {}], ['account.disabled', {}], ['grants.revoked', { grants: 1, clients: ['portal'] }]]);

    const finished = await disableAccount(db(), async () => ({ db: db(), redis, redisPrefix }), 'carol');
    expect(finished.json).toMatchObject({ disabled: true, grants_revoked: 1 });
    expect(await grantsOf(db(), carol.sub)).toEqual([]);
    expect(await tokens.find(tokenId)).toBeUndefined();
    expect((await events()).slice(3)).toEqual([['grants.revoked', { grants: 1, clients: ['portal'] }]]);
  }, SLOW);
});
