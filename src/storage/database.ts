import knex, { type Knex } from 'knex';
import type { Config } from '../config.ts';
import { openEmbeddedDatabase } from './embedded.ts';
import { migrationSource } from '../../migrations/index.ts';

export type { Knex };

export interface Database {
  knex: Knex;
  kind: 'postgres' | 'embedded';
  /** Settings for a dedicated connection (LISTEN), outside the pool. */
  connection: { connectionString: string } | { host: string; port: number; user: string; database: string };
  close(): Promise<void>;
}

/**
 * Every wait on Postgres is bounded, so a request gets a 503 within seconds when Postgres is
 * gone or unreachable (a partition: connections open, nothing coming back) instead of hanging:
 * a pool connection is waited for at most this long (a new one's connect included), and so is
 * each query. A request's first failing call ends it, so it fails within twice this.
 */
export const POSTGRES_WAIT_MS = 1250;

/** Where knex's own messages go (connection errors, pool warnings); nowhere when not given. */
export interface DatabaseLog {
  warn(message: unknown): void;
}

function knexLog(log: DatabaseLog | undefined) {
  const write = (message: unknown) => log?.warn(message);
  return { warn: write, error: write, deprecate: write, debug: () => {} };
}

/**
 * Whether a pool connection has had the answer to its last query. pg gives up on a query after
 * query_timeout but keeps the connection waiting for that answer, and knex puts it back in the
 * pool: a connection whose flow was dropped without a word (a NAT or firewall forgetting it, a
 * partition) then failed every query it was given, with Postgres itself answering, for as long
 * as traffic kept it from idling out. Such a connection is closed instead of handed out again.
 */
function answered(connection: { readyForQuery?: boolean }): boolean {
  return connection.readyForQuery !== false;
}

/**
 * Sets statement_timeout on a new connection by a SET, not as a startup parameter: PgBouncer
 * refuses a connection whose startup message carries one it does not know ("unsupported startup
 * parameter: statement_timeout"), so Gatehouse could not connect through it at all.
 */
function statementTimeout(ms: number) {
  return (connection: { query(sql: string): Promise<unknown> }, done: (error: unknown, connection: unknown) => void): void => {
    connection.query(`SET statement_timeout = ${Math.round(ms)}`).then(() => done(null, connection), (error: unknown) => done(error, connection));
  };
}

export interface PoolOptions {
  /** Connections at most (the embedded database always gets one). */
  max?: number;
  /** How long a connection may sit idle before the pool closes it (DATABASE_IDLE_TIMEOUT_SECONDS). */
  idleTimeoutSeconds?: number;
  /** How long one query may take (0: no limit, for an operator's migrate or janitor run). */
  queryTimeoutMs?: number;
  log?: DatabaseLog;
}

/** Opens the configured database (Postgres, or the embedded PGlite) through one knex pool. */
export async function openDatabase(database: Config['database'], { max = 10, idleTimeoutSeconds = 30, queryTimeoutMs = POSTGRES_WAIT_MS, log }: PoolOptions = {}): Promise<Database> {
  const idleTimeoutMillis = idleTimeoutSeconds * 1000;
  if (database.kind === 'postgres') {
    const db = knex({
      log: knexLog(log),
      client: 'pg',
      connection: {
        connectionString: database.url,
        connectionTimeoutMillis: POSTGRES_WAIT_MS,
        // The client-side timeout is what a partition needs (the server never sees the query);
        // the server-side one (statementTimeout) stops the server working on a query nobody
        // waits for any more.
        ...(queryTimeoutMs > 0 ? { query_timeout: queryTimeoutMs } : {}),
        keepAlive: true,
      },
      pool: { min: 0, max, idleTimeoutMillis, validate: answered, ...(queryTimeoutMs > 0 ? { afterCreate: statementTimeout(queryTimeoutMs) } : {}) },
      acquireConnectionTimeout: POSTGRES_WAIT_MS,
    });
    return { knex: db, kind: 'postgres', connection: { connectionString: database.url }, close: () => db.destroy() };
  }
  const embedded = await openEmbeddedDatabase(database.dataDir);
  const db = knex({
    log: knexLog(log),
    client: 'pg',
    connection: embedded.connection,
    // PGlite runs one query at a time anyway; one connection keeps transactions unambiguous.
    pool: { min: 0, max: 1, idleTimeoutMillis },
    acquireConnectionTimeout: 30_000,
  });
  return {
    knex: db,
    kind: 'embedded',
    connection: embedded.connection,
    close: async () => {
      await db.destroy();
      await embedded.close();
    },
  };
}

/** Applies pending migrations; returns the names it applied. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/**
 * migrateLatest as the server runs it at start: on Postgres through a connection of its own
 * without the query bound, since a migration may rewrite a big table (the embedded database
 * has one connection and no bound).
 */
export async function migrateAtStart(settings: Config['database'], database: Database): Promise<string[]> {
  if (database.kind === 'embedded') return migrateLatest(database.knex);
  const own = await openDatabase(settings, { max: 1, queryTimeoutMs: 0 });
  try {
    return await migrateLatest(own.knex);
  } finally {
    await own.close();
  }
}
