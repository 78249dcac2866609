import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';
import { gatehouse } from '../support/cli.ts';
import { clientCredentials } from '../support/http.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { migrationSource } from '../../migrations/index.ts';
import { verifyPassword } from '../../src/identity/passwords.ts';

describe('on the embedded database, while the provider runs', () => {
  let gh: RunningGatehouse;
  let env: Record<string, string>;

  beforeAll(async () => {
    gh = await startGatehouse({ database: 'embedded', redis: false });
    env = { DATA_DIR: (gh.config.database as { dataDir: string }).dataDir };
  });
  afterAll(() => gh.close());

  test('clients create --json prints one JSON document, and the client works at once', async () => {
    const run = await gatehouse(['clients', 'create', '--name', 'Batch', '--kind', 'server', '--scopes', 'auth-none read', '--json'], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const client = JSON.parse(run.stdout) as { client_id: string; client_secret: string; allowed_scopes: string };
    expect(client.allowed_scopes).toBe('auth-none read');
    // Letters and digits: `clients show ID` never takes it for an option.
    expect(client.client_id).toMatch(/^[A-Za-z0-9]{16}$/);
    const response = await clientCredentials(gh.url, client, { scope: 'read' });
    expect(response.status).toBe(200);
  });

  test('list, show, update and delete round-trip; the secret is never shown again', async () => {
    const created = JSON.parse((await gatehouse(['clients', 'create', '--name', 'Portal', '--kind', 'web', '--redirect-uri', 'https://portal.example.edu/cb', '--json'], env)).stdout) as { client_id: string; client_secret: string };
    const listed = JSON.parse((await gatehouse(['clients', 'list', '--json'], env)).stdout) as { client_id: string; client_secret?: string }[];
    expect(listed.map((c) => c.client_id)).toContain(created.client_id);
    expect(listed.every((c) => c.client_secret === undefined)).toBe(true);

    const updated = await gatehouse(['clients', 'update', created.client_id, '--scopes', 'openid email', '--consent', 'skip', '--json'], env);
    expect(JSON.parse(updated.stdout)).toMatchObject({ allowed_scopes: 'openid email', scope: 'openid email', consent: 'skip', redirect_uris: ['https://portal.example.edu/cb'] });
    const shown = JSON.parse((await gatehouse(['clients', 'show', created.client_id, '--json'], env)).stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ client_name: 'Portal', kind: 'web', token_endpoint_auth_method: 'client_secret_basic' });
    expect(shown.client_secret).toBeUndefined();

    expect((await gatehouse(['clients', 'delete', created.client_id], env)).code).toBe(0);
    const missing = await gatehouse(['clients', 'show', created.client_id, '--json'], env);
    expect(missing).toMatchObject({ code: 2, stdout: '', stderr: `gatehouse: no client ${created.client_id}\n` });
  });

  test('a back-channel logout URI is set, shown, listed and removed', async () => {
    const uri = 'https://portal.example.edu/redirect_uri?logout=backchannel';
    const created = JSON.parse((await gatehouse(['clients', 'create', '--name', 'Portal', '--kind', 'web', '--redirect-uri', 'https://portal.example.edu/cb', '--backchannel-logout-uri', uri, '--json'], env)).stdout) as { client_id: string };
    const shown = JSON.parse((await gatehouse(['clients', 'show', created.client_id, '--json'], env)).stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ backchannel_logout_uri: uri, backchannel_logout_session_required: true });
    const listed = JSON.parse((await gatehouse(['clients', 'list', '--json'], env)).stdout) as Record<string, unknown>[];
    expect(listed.find((c) => c.client_id === created.client_id)).toMatchObject({ backchannel_logout_uri: uri });

    const refused = await gatehouse(['clients', 'update', created.client_id, '--backchannel-logout-uri', 'http://portal.example.edu/logout'], env);
    expect(refused).toMatchObject({ code: 2, stderr: 'gatehouse: --backchannel-logout-uri: a back-channel logout URI must use https (http only for localhost): http://portal.example.edu/logout\n' });
    const removed = JSON.parse((await gatehouse(['clients', 'update', created.client_id, '--backchannel-logout-uri', '', '--json'], env)).stdout) as Record<string, unknown>;
    expect(removed).not.toHaveProperty('backchannel_logout_uri');
    expect(removed).not.toHaveProperty('backchannel_logout_session_required');
  });

  test('keys list shows the signing keys without private material', async () => {
    const run = await gatehouse(['keys', 'list', '--json'], env);
    const keys = JSON.parse(run.stdout) as { alg: string; purpose: string }[];
    expect(keys.filter((k) => k.purpose === 'main').map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(run.stdout).not.toMatch(/"d"|private/);
  });
});

/** A fresh Postgres database for the describe block, and the environment pointing the CLI at it. */
function freshPostgres(): { env: Record<string, string>; testDb: { config: TestDatabase['config'] } } {
  const env: Record<string, string> = {};
  const holder = { config: undefined as unknown as TestDatabase['config'] };
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createPostgresDatabase();
    holder.config = testDb.config;
    env.DATABASE_URL = (testDb.config as { url: string }).url;
    // As the operator gives it on Postgres: keys rotate seals the new keys under it.
    env.KEY_ENCRYPTION_KEY = TEST_KEY_ENCRYPTION_KEY;
  });
  afterAll(() => testDb.drop());
  return { env, testDb: holder };
}

describe('on Postgres', () => {
  const { env } = freshPostgres();

  test('migrate applies the schema once, then reports it up to date', async () => {
    // Every migration there is, in order (the list grows with each new one).
    const all = await migrationSource.getMigrations([]);
    expect(all.slice(0, 3)).toEqual(['20261127000000_foundation', '20261127010000_accounts', '20261127020000_enterprise_scopes']);
    expect(JSON.parse((await gatehouse(['migrate', '--json'], env)).stdout)).toEqual({ applied: all });
    expect(JSON.parse((await gatehouse(['migrate', '--json'], env)).stdout)).toEqual({ applied: [] });
  });

  test.each([
    [['clients', 'create', '--name', 'X'], 'gatehouse: clients create needs --kind (web|spa|server|resource-server)\n'],
    [['clients', 'create', '--name', 'X', '--kind', 'robot'], 'gatehouse: --kind must be one of web, spa, server, resource-server (got robot)\n'],
    [['clients', 'create', '--name', 'X', '--kind', 'web'], 'gatehouse: a web client needs at least one --redirect-uri\n'],
    [['clients', 'create', '--name', 'X', '--kind', 'web', '--redirect-uri', 'http://evil.example/cb'], 'gatehouse: --redirect-uri: a redirect URI must use https (http only for localhost): http://evil.example/cb\n'],
    [['clients', 'create', '--name', 'X', '--kind', 'server', '--scopes', 'read teleport'], 'gatehouse: --scopes: unknown scope "teleport": see the scope catalogue in the README\n'],
    [['clients', 'create', '--name', 'X', '--kind', 'server', '--org', 'dept=Physics'], 'gatehouse: --org must be one of user_org, course_org (got dept)\n'],
    [['clients', 'create', '--name', 'X', '--kind', 'server', '--bogus'], expect.stringContaining("Unknown option '--bogus'")],
    [['clients', 'create', '--name', 'X', '--kind', 'server', '--scopes', 'auth-none openid read'], 'gatehouse: --scopes: a server client can never be granted openid: it signs no one in (client credentials), and these are for a signed-in person\n'],
    [['clients', 'create', '--name', 'X', '--kind', 'server', '--scopes', 'auth-cas offline_access'], 'gatehouse: --scopes: a server client can never be granted auth-cas offline_access: it signs no one in (client credentials), and these are for a signed-in person\n'],
    [['clients', 'create', '--name', 'X', '--kind', 'web', '--redirect-uri', 'https://portal.example.edu/cb', '--scopes', 'openid auth-none'], 'gatehouse: --scopes: a web client can never be granted auth-none: auth-none is for client credentials only\n'],
    [['clients', 'create', '--name', 'X', '--kind', 'spa', '--redirect-uri', 'https://portal.example.edu/cb', '--scopes', 'auth-none'], 'gatehouse: --scopes: a spa client can never be granted auth-none: auth-none is for client credentials only\n'],
  ])('a bad call %j says what is wrong on stderr and exits 2', async (args, message) => {
    const run = await gatehouse([...args, '--json'], env);
    expect(run).toEqual({ code: 2, stdout: '', stderr: message });
  });

  test('a bad environment variable stops the command with one line naming it', async () => {
    const run = await gatehouse(['clients', 'list'], { ...env, GROUP_CACHE_SECONDS: 'soon' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^gatehouse: invalid configuration: GROUP_CACHE_SECONDS: .+\n$/);
  });
});

describe('accounts and groups', () => {
  const { env, testDb } = freshPostgres();

  test('accounts create stores an argon2id hash, never the password, and refuses a duplicate', async () => {
    const run = await gatehouse(['accounts', 'create', '--username', 'alice', '--password', 'correct horse battery', '--email', 'alice@example.edu', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ sub: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'alice', email: 'alice@example.edu', name: null });
    expect(run.stdout).not.toContain('correct horse');
    const db = await openDatabase(testDb.config);
    try {
      const row = await db.knex('accounts').where({ username: 'alice' }).first();
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
      expect(row.email_verified).toBe(true);
    } finally {
      await db.close();
    }
    const again = await gatehouse(['accounts', 'create', '--username', 'alice', '--password', 'another password'], env);
    expect(again).toEqual({ code: 2, stdout: '', stderr: 'gatehouse: an account named alice exists (usernames differing only in case or Unicode form are one)\n' });
    const short = await gatehouse(['accounts', 'create', '--username', 'bob', '--password', 'short'], env);
    expect(short.stderr).toBe('gatehouse: --password must have at least 8 characters\n');
  });

  test('accounts create --password-stdin takes the password from standard input, without its trailing newline', async () => {
    const run = await gatehouse(['accounts', 'create', '--username', 'carol', '--password-stdin', '--json'], env, 'a password from a pipe\n');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const db = await openDatabase(testDb.config);
    try {
      const row = await db.knex('accounts').where({ username: 'carol' }).first();
      expect(await verifyPassword(row.password_hash, 'a password from a pipe')).toBe(true);
      expect(await verifyPassword(row.password_hash, 'a password from a pipe\n')).toBe(false);
    } finally {
      await db.close();
    }
    const both = await gatehouse(['accounts', 'create', '--username', 'dave', '--password', 'on the line too', '--password-stdin'], env, 'a password from a pipe\n');
    expect(both).toEqual({ code: 2, stdout: '', stderr: 'gatehouse: give --password or --password-stdin, not both\n' });
    const empty = await gatehouse(['accounts', 'create', '--username', 'dave', '--password-stdin'], env, '');
    expect(empty).toEqual({ code: 2, stdout: '', stderr: 'gatehouse: accounts create needs --password or --password-stdin\n' });
  });

  test('groups add-member refuses a name that is no account, unless accounts come from CAS at their first sign-in', async () => {
    expect(await gatehouse(['groups', 'add-member', 'library-staff', 'alicia'], env)).toEqual({ code: 2, stdout: '', stderr: 'gatehouse: no account named alicia: create it first (gatehouse accounts create)\n' });
    const cas = { ...env, IDENTITY: 'cas', CAS_URL: 'https://cas.example.edu/cas' };
    expect(await gatehouse(['groups', 'add-member', 'registrar', 'newcomer'], cas)).toMatchObject({ code: 0, stdout: 'added newcomer to registrar\n' });
    expect(JSON.parse((await gatehouse(['groups', 'list', '--json'], env)).stdout)).toEqual([{ group: 'registrar', members: ['newcomer'] }]);
    expect((await gatehouse(['groups', 'remove-member', 'registrar', 'newcomer'], env)).code).toBe(0);
  });

  test('groups add-member, list and remove-member', async () => {
    expect((await gatehouse(['groups', 'add-member', 'library-staff', 'alice'], env)).stdout).toBe('added alice to library-staff\n');
    expect(JSON.parse((await gatehouse(['groups', 'list', '--json'], env)).stdout)).toEqual([{ group: 'library-staff', members: ['alice'] }]);
    expect((await gatehouse(['groups', 'remove-member', 'library-staff', 'alice'], env)).code).toBe(0);
    expect(await gatehouse(['groups', 'remove-member', 'library-staff', 'alice'], env)).toMatchObject({ code: 2, stderr: 'gatehouse: alice is not in library-staff\n' });
  });
});

describe('scopes and keys', () => {
  const { env } = freshPostgres();

  test('scopes define adds an enterprise scope clients may then be allowed', async () => {
    const defined = await gatehouse(['scopes', 'define', 'grades', '--group', 'registrar', '--description', 'See your grades', '--json'], env);
    expect(JSON.parse(defined.stdout)).toEqual({ name: 'grades', group: 'registrar', description: 'See your grades' });
    const listed = JSON.parse((await gatehouse(['scopes', 'list', '--json'], env)).stdout) as { name: string; kind: string; group?: string }[];
    expect(listed.find((s) => s.name === 'grades')).toEqual({ name: 'grades', kind: 'enterprise', description: 'See your grades', group: 'registrar' });
    const client = await gatehouse(['clients', 'create', '--name', 'Sync', '--kind', 'server', '--scopes', 'auth-none grades', '--json'], env);
    expect(JSON.parse(client.stdout).allowed_scopes).toBe('auth-none grades');
  });

  test.each([
    [['scopes', 'define', 'read', '--group', 'g', '--description', 'd'], 'gatehouse: read is a built-in scope and cannot be backed by a group\n'],
    [['scopes', 'define', 'grades'], 'gatehouse: scopes define needs --group\n'],
    [['scopes', 'define', 'grades', '--group', 'g'], 'gatehouse: scopes define needs --description (people read it on the consent page)\n'],
  ])('%j is refused', async (args, stderr) => {
    expect(await gatehouse(args, env)).toEqual({ code: 2, stdout: '', stderr });
  });

  test('keys rotate --restricted adds restricted signing keys, the next ones waiting for activation, and leaves the main ones', async () => {
    type Rotated = { kid: string; purpose: string; activates_at: string }[];
    const rotate = async () => (JSON.parse((await gatehouse(['keys', 'rotate', '--restricted', '--json'], env)).stdout) as { keys: Rotated }).keys;
    const states = async () => {
      const listed = JSON.parse((await gatehouse(['keys', 'list', '--json'], env)).stdout) as { kid: string; purpose: string; state: string }[];
      return { listed, of: (keys: Rotated) => keys.map((k) => listed.find((l) => l.kid === k.kid)!.state) };
    };
    // No restricted key yet (no server has started): the first ones have nothing to wait for.
    const first = await rotate();
    expect(first.map((k) => k.purpose)).toEqual(['restricted', 'restricted']);
    expect((await states()).of(first)).toEqual(['active', 'active']);
    const next = await rotate();
    expect(next.every((k) => Date.parse(k.activates_at) > Date.now())).toBe(true);
    const { listed: after, of } = await states();
    expect(of(next)).toEqual(['next', 'next']);
    // The keys they succeed keep signing until the new ones activate.
    expect(of(first)).toEqual(['active', 'active']);
    expect(after.filter((k) => k.purpose === 'main')).toEqual([]);
  });
});

describe('janitor', () => {
  const { env, testDb } = freshPostgres();

  test('--limit and --batch-size bound a run, and the counts are given per table', async () => {
    expect((await gatehouse(['migrate'], env)).code).toBe(0);
    const db = await openDatabase(testDb.config);
    try {
      const expiresAt = new Date(Date.now() - 60_000);
      await db.knex('oidc_models').insert(['a', 'b', 'c', 'd', 'e'].map((id) => ({ model: 'AccessToken', id, payload: '{}', expires_at: expiresAt })));
    } finally {
      await db.close();
    }
    const first = await gatehouse(['janitor', '--batch-size', '2', '--limit', '3', '--json'], env);
    expect(JSON.parse(first.stdout)).toEqual({ removed: 3, tables: { oidc_models: 3, consumed_markers: 0, rate_limits: 0, audit_events: 0 } });
    const rest = await gatehouse(['janitor'], env);
    expect(rest).toEqual({ code: 0, stdout: 'removed 2 expired rows (oidc_models 2, consumed_markers 0, rate_limits 0, audit_events 0)\n', stderr: '' });
  });

  test.each([
    [['janitor', '--batch-size', '0'], 'gatehouse: --batch-size takes a whole number of rows from 1 to 999999999 (got 0)\n'],
    [['janitor', '--limit', 'all'], 'gatehouse: --limit takes a whole number of rows from 1 to 999999999 (got all)\n'],
  ])('%j is refused', async (args, stderr) => {
    expect(await gatehouse(args, env)).toEqual({ code: 2, stdout: '', stderr });
  });
});
