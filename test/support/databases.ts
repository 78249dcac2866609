import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Config } from '../../src/config.ts';
import { migrateLatest, openDatabase, type Database } from '../../src/storage/database.ts';
import { scanKeys, type Redis } from '../../src/storage/redis.ts';
import { TEST_POSTGRES_URL } from './env.ts';

export interface TestDatabase {
  config: Config['database'];
  drop(): Promise<void>;
}

/** A fresh, empty Postgres database on the test server, dropped afterwards. */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    config: { kind: 'postgres', url: url.toString() },
    drop: async () => void (await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

/** A fresh embedded (PGlite) data directory, removed afterwards. */
export async function createEmbeddedDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-'));
  return { config: { kind: 'embedded', dataDir }, drop: () => rm(dataDir, { recursive: true, force: true }) };
}

export interface MigratedDatabase {
  db: Database;
  /** Closes the connection and drops (removes) the database. */
  close(): Promise<void>;
}

/** A test database opened and migrated to the latest schema, as Gatehouse would at start-up. */
export async function openMigratedDatabase(testDb: TestDatabase): Promise<MigratedDatabase> {
  const db = await openDatabase(testDb.config);
  await migrateLatest(db.knex);
  return {
    db,
    close: async () => {
      await db.close();
      await testDb.drop();
    },
  };
}

/** A query on the test server itself, outside any Gatehouse (e.g. pg_stat_activity). */
export async function adminQuery<Row extends object = object>(sql: string, params: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Row[];
  } finally {
    await client.end();
  }
}

/** Deletes every key under a prefix: tokens would expire, but a run should not leave them behind. */
export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<void> {
  // Key by key: on a Redis Cluster the keys of one page may live in different slots.
  for await (const keys of scanKeys(redis, `${prefix}*`, 1000)) await Promise.all(keys.map((key) => redis.unlink(key)));
}

/** A Redis key prefix no other test uses. */
export function uniqueRedisPrefix(): string {
  return `gatehouse-test:${randomBytes(6).toString('hex')}:`;
}
