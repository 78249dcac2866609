import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { serveSharedSession, type SharedSession } from '../../src/storage/shared_session.ts';
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

test('a malformed frame on the socket drops that connection only; the provider keeps serving', async () => {
  const raw = connect(socketPath());
  await once(raw, 'connect');
  raw.on('error', () => {});
  raw.write(startupMessage('postgres', 'postgres'));
  await once(raw, 'data');
  // A Query whose length field says 0: shorter than the length field itself.
  raw.write(Buffer.from([0x51, 0, 0, 0, 0]));
  await once(raw, 'close');
  expect((await signInAfterATypo()).kind).toBe('callback');
});

test('the socket is for this user only', async () => {
  expect((await stat(socketPath())).mode & 0o777).toBe(0o600);
});

describe('a connection that keeps the session while it sends nothing', () => {
  let dir: string;
  let db: PGlite;
  let shared: SharedSession;
  const socket = () => ({ host: dir, port: 5432, user: 'postgres', database: 'postgres' });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-hold-'));
    db = await PGlite.create(join(dir, 'pglite'));
    await db.exec('CREATE TABLE notes (text text)');
    shared = await serveSharedSession(db, join(dir, '.s.PGSQL.5432'), { idleHoldMs: 300 });
  });
  afterAll(async () => {
    await shared?.close();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('is dropped after the idle hold time, its transaction rolled back, and the others go on', async () => {
    const idle = new pg.Client(socket());
    idle.on('error', () => {});
    await idle.connect();
    await idle.query('BEGIN');
    await idle.query("INSERT INTO notes VALUES ('never committed')");
    const other = new pg.Client(socket());
    await other.connect();
    expect((await other.query('SELECT count(*)::int AS n FROM notes')).rows).toEqual([{ n: 0 }]);
    await expect(idle.query('COMMIT')).rejects.toThrow();
    await other.end();
  });
});

/** The embedded database's socket, inside its data directory. */
function socketPath(): string {
  return join(cliEnv.DATA_DIR!, '.s.PGSQL.5432');
}

/** A protocol 3.0 StartupMessage, as the pg driver sends it first. */
function startupMessage(user: string, database: string): Buffer {
  const body = Buffer.from(`user\0${user}\0database\0${database}\0\0`);
  const message = Buffer.alloc(8 + body.length);
  message.writeInt32BE(message.length, 0);
  message.writeInt32BE(196608, 4);
  body.copy(message, 8);
  return message;
}
