import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Knex } from '../../src/storage/database.ts';
import { createPostgresDatabase, openMigratedDatabase, type MigratedDatabase } from './databases.ts';
import { TEST_KEY_ENCRYPTION_KEY } from './gatehouse.ts';

const BIN = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `gatehouse` command in its own process, as an operator would (stdin: empty unless given). */
export function gatehouse(args: string[], env: Record<string, string>, stdin = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin);
  });
}

/** Runs several calls (arguments, standard input), two at a time as the machine has two cores; results in order. */
export async function gatehouseEach(calls: [args: string[], stdin?: string][], env: Record<string, string>): Promise<CliRun[]> {
  const runs: CliRun[] = [];
  for (let i = 0; i < calls.length; i += 2) runs.push(...await Promise.all(calls.slice(i, i + 2).map(([args, stdin]) => gatehouse(args, env, stdin))));
  return runs;
}

/** One event as `gatehouse audit --json` prints it. */
export interface AuditJson {
  id: string;
  at: string;
  event: string;
  actor: string;
  sub: string | null;
  username: string | null;
  client_id: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

/**
 * A fresh, migrated Postgres database for the file (or describe block), a connection the test
 * may look into it with, and the environment that points the CLI at it.
 */
export function cliDatabase(): { env: Record<string, string>; db: () => Knex } {
  const env: Record<string, string> = { KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
  let sql: MigratedDatabase | undefined;
  beforeAll(async () => {
    const testDb = await createPostgresDatabase();
    sql = await openMigratedDatabase(testDb);
    env.DATABASE_URL = (testDb.config as { url: string }).url;
  });
  afterAll(() => sql?.close());
  return { env, db: () => sql!.db.knex };
}
