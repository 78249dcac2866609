import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { cliDatabase, gatehouse, gatehouseEach } from '../support/cli.ts';

const { env, db } = cliDatabase();
let spa: RegisteredClient;

beforeAll(async () => {
  spa = await registerClient(db(), { name: 'Timetable', kind: 'spa', 'redirect-uri': ['https://timetable.example.edu/cb'] });
  await createPerson(db(), { username: 'alice', password: 'alices password' });
});

/** What a bad call may leave behind: nothing at all. */
const everything = async () => ({
  models: await db()('oidc_models').orderBy(['model', 'id']).select('model', 'id', 'payload'),
  accounts: await db()('accounts').orderBy('id').select('*'),
  scopes: await db()('enterprise_scopes').select('*'),
  members: await db()('group_members').select('*'),
  keys: await db()('signing_keys').select('kid'),
  audit: await db()('audit_events').orderBy('id').select('id'),
});

type Case = [args: string[], stderr: string, stdin?: string];

/**
 * Runs each bad call through the real CLI, two at a time, and expects exit 2 and exactly its one
 * line on stderr (nothing on stdout, even with --json); then that nothing in the database changed.
 */
async function refusedAll(cases: Case[]): Promise<void> {
  const before = await everything();
  const runs = await gatehouseEach(cases.map(([args, , stdin]) => [[...args, '--json'], stdin]), env);
  expect(runs.map((run, i) => ({ args: cases[i]![0], ...run }))).toEqual(cases.map(([args, stderr]) => ({ args, code: 2, stdout: '', stderr: `gatehouse: ${stderr}\n` })));
  expect(await everything()).toEqual(before);
}

// Each call is a node process (about a second): a generous bound for a machine shared with other runs.
const SLOW = 120_000;

const HELP = (command: string) => `(gatehouse help lists what ${command} takes)`;

test('clients create and update: each bad flag is named with what it accepts, and nothing is written', async () => {
  const web = ['clients', 'create', '--name', 'X', '--kind', 'web', '--redirect-uri', 'https://x.example.edu/cb'];
  await refusedAll([
    [['clients', 'create', '--name', 'X', '--kind', 'web', '--redirect-uri', 'not a url'], '--redirect-uri: not an absolute URL: not a url'],
    [['clients', 'create', '--name', 'X', '--kind', 'web', '--redirect-uri', 'https://x.example.edu/cb#top'], '--redirect-uri: a redirect URI must not have a fragment: https://x.example.edu/cb#top'],
    [[...web, '--post-logout-redirect-uri', 'http://x.example.edu/'], '--post-logout-redirect-uri: a redirect URI must use https (http only for localhost): http://x.example.edu/'],
    [[...web, '--consent', 'maybe'], '--consent must be one of prompt, skip (got maybe)'],
    [[...web, '--access-token-format', 'xml'], '--access-token-format must be one of opaque, jwt (got xml)'],
    [[...web, '--restricted', '--access-token-format', 'opaque'], '--access-token-format opaque conflicts with --restricted: a restricted client always gets JWT access tokens'],
    [[...web, '--logo-uri', 'http://x.example.edu/logo.png'], '--logo-uri must be an https URL: http://x.example.edu/logo.png'],
    [[...web, '--policy-uri', 'http://x.example.edu/privacy'], '--policy-uri must be an https URL: http://x.example.edu/privacy'],
    [[...web, '--tos-uri', 'terms'], '--tos-uri must be an https URL: terms'],
    [[...web, '--scopes', 'openid teleport'], '--scopes: unknown scope "teleport": see the scope catalogue in the README'],
    [['clients', 'create', '--name', '   ', '--kind', 'server'], '--name must not be empty'],
    [['clients', 'create', '--name', 'X', '--kind', 'server', '--org', 'course_org'], '--org takes FILTER=ORG, e.g. course_org=MITx (got course_org)'],
    [['clients', 'create', '--name', 'X', '--kind', 'server', '--org', 'course_org=MITx', '--org', 'course_org=HarvardX'], '--org course_org=… is given twice: a client has one course_org'],
    [['clients', 'create', '--name', 'X', '--kind', 'server', '--backchannel-logout-uri', 'https://x.example.edu/bc'], 'a server client has no sessions to log out of: it takes no --backchannel-logout-uri'],
    [['clients', 'create', '--name', 'X', '--kind', 'server', '--new-secret'], '--new-secret is for clients update: clients create makes the secret of a client that needs one'],
    [['clients', 'create', '--name', 'X', '--kind', 'server', 'extra'], `Unexpected argument 'extra'. This command does not take positional arguments ${HELP('clients create')}`],
    [['clients', 'create', '--name', 'X', '--kind'], `Option '--kind <value>' argument missing ${HELP('clients create')}`],
    [['clients', 'update', spa.client_id, '--new-secret'], '--new-secret: a spa client has no secret'],
    [['clients', 'update', spa.client_id, '--kind', 'robot'], '--kind must be one of web, spa, server, resource-server (got robot)'],
    [['clients', 'update', spa.client_id, '--redirect-uri', 'http://evil.example/cb'], '--redirect-uri: a redirect URI must use https (http only for localhost): http://evil.example/cb'],
    [['clients', 'update', spa.client_id, '--scopes', 'openid auth-none'], '--scopes: a spa client can never be granted auth-none: auth-none is for client credentials only'],
    [['clients', 'update', spa.client_id], 'clients update needs at least one flag to change (those of clients create, or --new-secret)'],
    [['clients', 'update', 'nosuch', '--name', 'Y'], 'no client nosuch'],
    [['clients', 'update', spa.client_id, 'nosuch', '--name', 'Y'], 'usage: gatehouse clients update ID'],
    [['clients', 'delete', 'nosuch'], 'no client nosuch'],
    [['clients', 'show'], 'usage: gatehouse clients show ID'],
  ]);
}, SLOW);

test('clients update --restricted turns an opaque client\'s tokens to JWT; opaque is then refused, as on create', async () => {
  const batch = await registerClient(db(), { name: 'Batch', kind: 'server', scopes: 'auth-none read' });
  const made = await gatehouse(['clients', 'update', batch.client_id, '--restricted', '--json'], env);
  expect(made.code).toBe(0);
  expect(JSON.parse(made.stdout)).toMatchObject({ restricted: true, access_token_format: 'jwt' });
  await refusedAll([
    [['clients', 'update', batch.client_id, '--access-token-format', 'opaque'], '--access-token-format opaque conflicts with --restricted: a restricted client always gets JWT access tokens'],
  ]);
}, SLOW);

test('accounts, groups and grants: the flag or argument is named, and nothing is written', async () => {
  await refusedAll([
    [['accounts', 'create', '--username', 'al ice', '--password', 'long enough'], '--username may use letters, digits and . _ @ + - (at most 64); got "al ice"'],
    [['accounts', 'create', '--username', 'a'.repeat(65), '--password', 'long enough'], `--username may use letters, digits and . _ @ + - (at most 64); got "${'a'.repeat(65)}"`],
    [['accounts', 'create', '--username', 'bob', '--password', 'long enough', '--email', 'bob'], '--email is not an address: bob'],
    [['accounts', 'create', '--password', 'long enough'], 'accounts create needs --username'],
    [['accounts', 'create', '--username', 'bob', '--password-stdin'], '--password must have at least 8 characters', 'short\n'],
    [['accounts', 'create', '--username', 'ALICE', '--password', 'long enough'], 'an account named ALICE exists (usernames differing only in case or Unicode form are one)'],
    [['accounts', 'disable'], 'usage: gatehouse accounts disable USER'],
    [['accounts', 'disable', 'nobody'], 'no account named nobody'],
    [['accounts', 'enable', 'nobody'], 'no account named nobody'],
    [['accounts', 'set-password', 'alice'], 'accounts set-password needs --password-stdin'],
    [['accounts', 'set-password', 'alice', '--password', 'on the command line'], `Unknown option '--password' ${HELP('accounts set-password')}`],
    [['groups', 'add-member', 'staff'], 'usage: gatehouse groups add-member GROUP USERNAME'],
    [['groups', 'add-member', '', 'alice'], 'GROUP must not be empty (e.g. gatehouse groups add-member library-staff alice)'],
    [['groups', 'add-member', 'staff', ' '], 'USERNAME must not be empty (e.g. gatehouse groups add-member library-staff alice)'],
    [['groups', 'remove-member', 'staff', 'alice'], 'alice is not in staff'],
    [['grants', 'revoke'], 'usage: gatehouse grants revoke --user U [--client C]'],
    [['grants', 'revoke', '--user', 'nobody'], 'no account named nobody'],
  ]);
}, SLOW);

test('scopes, keys and janitor: the flag or argument is named, and nothing is written', async () => {
  await refusedAll([
    [['scopes', 'define', 'my scope', '--group', 'g', '--description', 'd'], '"my scope" is not a scope token (no spaces, quotes or backslashes)'],
    [['scopes', 'define', '--group', 'g', '--description', 'd'], 'usage: gatehouse scopes define NAME --group G --description TEXT'],
    [['scopes', 'define', 'grades', '--group', '  ', '--description', 'd'], 'scopes define needs --group'],
    [['keys', 'rotate', '--purpose', 'restricted'], `Unknown option '--purpose' ${HELP('keys rotate')}`],
    [['keys', 're-encrypt'], 'usage: gatehouse keys re-encrypt --new-key-file PATH'],
    [['keys', 're-encrypt', '--new-key-file', '/nonexistent/kek'], 'cannot read --new-key-file /nonexistent/kek (ENOENT)'],
    [['keys', 're-encrypt', '--new-key-file', '/etc/hostname'], '--new-key-file must hold 32 random bytes in base64, e.g. made by openssl rand -base64 32 > FILE'],
    [['janitor', '--limit', '1.5'], '--limit takes a whole number of rows from 1 to 999999999 (got 1.5)'],
  ]);
}, SLOW);
