import { startGatehouseTarget } from './gatehouse_target.ts';
import { startBaselineTarget } from './baseline_target.ts';
import { fire, type LoadResult } from './load.ts';
import { clientCredentials, introspection, type Scenario } from './scenarios.ts';
import { table, TARGET_RATIO, type ScenarioResult } from './report.ts';
import type { Target } from './listen.ts';

/**
 * Gatehouse (Postgres + Redis) against bare oidc-provider (memory adapter) with the same
 * configuration and clients, on the two machine-to-machine endpoints. BENCH_SECONDS sets the
 * measured duration of each run (default 8), BENCH_CONNECTIONS the concurrency (default 10).
 */
const SECONDS = positive('BENCH_SECONDS', 8);
const CONNECTIONS = positive('BENCH_CONNECTIONS', 10);
// Long enough for JIT, the knex pool and ioredis to reach steady state; not counted.
const WARMUP_SECONDS = 2;
const SCENARIOS: Scenario[] = [clientCredentials, introspection];

async function main(): Promise<void> {
  const gatehouse = await startGatehouseTarget();
  let baseline: Target | undefined;
  try {
    baseline = await startBaselineTarget(gatehouse.shared);
    const results: ScenarioResult[] = [];
    for (const [index, scenario] of SCENARIOS.entries()) {
      // Alternate who goes first, so neither side always runs on a warmer (or more fragmented) process.
      const order = index % 2 === 0 ? [gatehouse, baseline] : [baseline, gatehouse];
      const measured = new Map<Target, LoadResult>();
      for (const target of order) measured.set(target, await measure(scenario, target, gatehouse.clients));
      results.push({ scenario: scenario.name, gatehouse: measured.get(gatehouse)!, baseline: measured.get(baseline)! });
    }
    console.log(`\n${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s measured per run, autocannon in a worker thread\n`);
    console.log(table(results));
    const failed = results.filter((r) => r.gatehouse.reqPerSec / r.baseline.reqPerSec < TARGET_RATIO).map((r) => r.scenario);
    console.log(failed.length ? `\nFAIL: below ${TARGET_RATIO} of baseline throughput: ${failed.join(', ')}` : '\nPASS: every scenario meets the target');
  } finally {
    await baseline?.close();
    await gatehouse.close();
  }
}

async function measure(scenario: Scenario, target: Target, clients: Parameters<Scenario['prepare']>[1]): Promise<LoadResult> {
  const prepared = await scenario.prepare(target.url, clients);
  await prepared.check();
  process.stderr.write(`${scenario.name} on ${target.name} (${target.url})...\n`);
  const run = await fire({ url: target.url, request: prepared.request, connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS });
  for (const [phase, result] of Object.entries(run)) assertClean(`${scenario.name} on ${target.name} (${phase})`, result);
  // Still the same answer after the run: the numbers are for the intended response, not a degraded one.
  await prepared.check();
  return run.measured;
}

/** A benchmark of errors is worthless: any non-2xx, connection error or timeout ends the run. */
function assertClean(what: string, result: LoadResult): void {
  if (result.requests === 0 || result.non2xx || result.errors || result.timeouts) {
    throw new Error(`${what}: ${result.requests} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts; status codes ${JSON.stringify(result.statusCodes)}`);
  }
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer (got ${raw})`);
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
