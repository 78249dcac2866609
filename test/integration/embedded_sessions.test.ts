import pg from 'pg';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, type Step } from '../support/user_agent.ts';
import { gatehouse } from '../support/cli.ts';
import { pollUntil } from '../support/poll.ts';

/**
 * The embedded database is one PGlite session that the provider's pool, its LISTEN connection and
 * every CLI process reach through one socket. Each of them may drop its connection and open a
 * new one at any time; whatever state the old one left in the session must not break the new one.
 */
const CB = 'https://portal.example.edu/cb';

let gh: RunningGatehouse;
let portal: RegisteredClient;
let rp: RelyingParty;
let cliEnv: Record<string, string>;

beforeAll(async () => {
  // The pool closes a connection idle for a second, so the tests wait seconds, not half a minute.
  gh = await startGatehouse({ database: 'embedded', redis: false, env: { DATABASE_IDLE_TIMEOUT_SECONDS: '1' } });
  const db = gh.services.database.knex;
  portal = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], consent: 'skip' });
  await createPerson(db, { username: 'alice', password: 'alices password' });
  rp = await relyingParty(gh.url, portal, CB);
  cliEnv = { DATA_DIR: (gh.config.database as { dataDir: string }).dataDir, LOG_LEVEL: 'silent' };
}, 60_000);
afterAll(() => gh.close());

/** A mistyped password, then the right one: the failure makes the rate limiter prepare its statements. */
async function signInAfterATypo(): Promise<Step> {
  const typo = await new UserAgent(CB).signIn((await rp.begin()).url, 'alice', 'alices pasword');
  expect(typo).toMatchObject({ kind: 'page', status: 401 });
  return new UserAgent(CB).signIn((await rp.begin()).url, 'alice', 'alices password');
}

/** The pg driver's protocol layer, to send part of an exchange and cut the socket. */
interface Cut {
  parse(query: { text: string }): void;
  flush(): void;
  stream: { destroy(error: Error): void };
}

/** The provider's knex pool (tarn), whose connections come and go. */
function pool(): { numUsed(): number; numFree(): number } {
  return (gh.services.database.knex.client as { pool: { numUsed(): number; numFree(): number } }).pool;
}

test('a sign-in after the pool has closed its idle connection works (the new connection prepares the same statements)', async () => {
  expect((await signInAfterATypo()).kind).toBe('callback');
  const emptied = await pollUntil(async () => pool().numUsed() + pool().numFree(), (open) => open === 0, 10_000, 100);
  expect(emptied).toBe(0);
  expect((await signInAfterATypo()).kind).toBe('callback');
});

test('a sign-in after the pool\'s connection died of a socket error works', async () => {
  expect((await signInAfterATypo()).kind).toBe('callback');
  const knex = gh.services.database.knex;
  const connection = (await knex.client.acquireConnection()) as pg.Client & { connection: Cut };
  connection.connection.stream.destroy(new Error('connection reset by a test'));
  await knex.client.releaseConnection(connection);
  expect((await signInAfterATypo()).kind).toBe('callback');
});

test('a connection that dies in the middle of a transaction takes its uncommitted change and its statements with it', async () => {
  // Another process (a CLI interrupted by Ctrl-C) begins changing alice's password, prepares a
  // statement under a name the provider also uses, and its connection is cut before it commits.
  const other = new pg.Client(gh.services.database.connection);
  other.on('error', () => {});
  await other.connect();
  await other.query('BEGIN');
  await other.query('UPDATE accounts SET password_hash = $1 WHERE username = $2', ['not a hash', 'alice']);
  await other.query({ name: 'rate_limits:rlflx-get', text: 'SELECT 1' });
  // Cut in the middle of an exchange: a statement parsed, the Sync that ends the exchange never sent.
  const wire = (other as pg.Client & { connection: Cut }).connection;
  wire.parse({ text: 'SELECT 2' });
  wire.flush();
  wire.stream.destroy(new Error('killed'));
  expect((await signInAfterATypo()).kind).toBe('callback');
});

test('after the CLI has connected, changed a client and left, the change holds at once and sign-in works', async () => {
  expect((await signInAfterATypo()).kind).toBe('callback');
  const moved = await gatehouse(['clients', 'update', portal.client_id, '--redirect-uri', 'https://portal.example.edu/moved'], cliEnv);
  expect(moved.code).toBe(0);
  // The CLI announced the change; the provider's listening connection, not the CLI's, must hear it.
  expect(await new UserAgent(CB).open((await rp.begin()).url)).toMatchObject({ kind: 'page', status: 400 });

  expect((await gatehouse(['clients', 'update', portal.client_id, '--redirect-uri', CB], cliEnv)).code).toBe(0);
  expect((await signInAfterATypo()).kind).toBe('callback');
});
