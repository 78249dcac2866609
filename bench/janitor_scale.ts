import { performance } from 'node:perf_hooks';
import type { Config } from '../src/config.ts';
import { openDatabase } from '../src/storage/database.ts';
import { runJanitor, type JanitorResult } from '../src/storage/janitor.ts';
import { startGatehouseTarget } from './gatehouse_target.ts';
import { clientCredentials } from './scenarios.ts';
import { LoadGenerator, summarize, type LoadRun, type RawResult } from './load.ts';
import { assertClean } from './compare.ts';
import { positive } from './positive_env.ts';

/**
 * The janitor on a big table beside live traffic. Gatehouse on Postgres alone, so every token
 * request writes to oidc_models, the table being cleaned. JANITOR_BENCH_ROWS expired rows are
 * seeded, then client credentials tokens are requested for BENCH_SECONDS without the janitor,
 * again for as long as the janitor (run as the server runs it, on the server's pool) takes, and
 * for BENCH_SECONDS after it.
 */
const ROWS = positive('JANITOR_BENCH_ROWS', 1_000_000);
const SECONDS = positive('BENCH_SECONDS', 5);
const CONNECTIONS = positive('BENCH_CONNECTIONS', 10);
const WARMUP_SECONDS = 2;

async function main(): Promise<void> {
  const target = await startGatehouseTarget({ redis: false });
  const generator = new LoadGenerator();
  try {
    const db = target.shared.db;
    const scenario = await clientCredentials.prepare(target.url, target.clients);
    await scenario.check();
    const load = (seconds: number): LoadRun => ({ url: target.url, request: scenario.request, connections: CONNECTIONS, seconds });

    process.stderr.write(`seeding ${ROWS} expired rows...\n`);
    const seedStart = performance.now();
    await seedExpired(target.shared.config.database, ROWS);
    const seedSeconds = (performance.now() - seedStart) / 1000;

    assertClean('warm-up', summarize([await generator.run(load(WARMUP_SECONDS))]));
    process.stderr.write(`token requests for ${SECONDS} s without the janitor...\n`);
    const without = summarize([await generator.run(load(SECONDS))]);
    assertClean('without the janitor', without);

    process.stderr.write('token requests while the janitor runs...\n');
    const janitorStart = performance.now();
    let janitorSeconds = 0;
    const janitor = runJanitor(db).then((result: JanitorResult) => {
      janitorSeconds = (performance.now() - janitorStart) / 1000;
      return result;
    });
    let done = false;
    void janitor.finally(() => { done = true; });
    // One-second runs until the janitor is done: the load covers its whole run and little more.
    const during: RawResult[] = [];
    while (!done) during.push(await generator.run(load(1)));
    const removed = await janitor;
    const withJanitor = summarize(during);
    assertClean('during the janitor', withJanitor);
    await scenario.check();
    process.stderr.write(`token requests for ${SECONDS} s after the janitor...\n`);
    const after = summarize([await generator.run(load(SECONDS))]);
    assertClean('after the janitor', after);

    const row = (name: string, r: typeof without) => `${name.padEnd(22)} ${r.p99Ms.toFixed(0).padStart(8)} ms ${r.reqPerSec.toFixed(0).padStart(8)} ${String(r.requests).padStart(9)}`;
    console.log(`\n${ROWS} expired rows in oidc_models, seeded in ${seedSeconds.toFixed(1)} s; ${CONNECTIONS} connections, client credentials, tokens stored in Postgres`);
    console.log(`janitor: ${janitorSeconds.toFixed(1)} s, removed ${JSON.stringify(removed.tables)} (${(removed.removed / janitorSeconds).toFixed(0)} rows/s)\n`);
    console.log(`${'token requests'.padEnd(22)} ${'p99'.padStart(11)} ${'req/s'.padStart(8)} ${'requests'.padStart(9)}`);
    console.log(row(`without janitor (${SECONDS} s)`, without));
    console.log(row(`during janitor (${during.length} s)`, withJanitor));
    console.log(row(`after janitor (${SECONDS} s)`, after));
    if (removed.tables.oidc_models < ROWS) throw new Error(`the janitor removed ${removed.tables.oidc_models} of ${ROWS} expired rows`);
  } finally {
    await generator.close();
    await target.close();
  }
}

/**
 * One statement (a million single inserts would take longer than everything measured here), on
 * its own connection: the server's pool stops any query after a few seconds.
 */
async function seedExpired(database: Config['database'], rows: number): Promise<void> {
  const own = await openDatabase(database, { max: 1, queryTimeoutMs: 0 });
  try {
    await own.knex.raw(
      `INSERT INTO oidc_models (model, id, payload, expires_at)
       SELECT 'AccessToken', 'bench-expired-' || g, '{"kind":"AccessToken"}'::jsonb, now() - interval '1 hour' - g * interval '1 millisecond'
       FROM generate_series(1, ?) AS g`,
      [rows],
    );
    // As rows that expired over weeks would be: already vacuumed and counted by the planner.
    await own.knex.raw('VACUUM ANALYZE oidc_models');
  } finally {
    await own.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
