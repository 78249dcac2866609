import { startGatehouseTarget } from './gatehouse_target.ts';
import { startBaselineTarget } from './baseline_target.ts';
import { compare, type ComparePlan } from './compare.ts';
import { clientCredentials, introspection, type Scenario } from './scenarios.ts';
import { belowTarget, groupCheckReport, table, TARGET_RATIO, type ScenarioResult } from './report.ts';
import { groupCheckSides } from './group_check.ts';
import { positive } from './positive_env.ts';

/**
 * Gatehouse (Postgres + Redis) against bare oidc-provider (memory adapter) with the same
 * configuration and clients, on the two machine-to-machine endpoints. BENCH_SECONDS sets the
 * measured seconds per side and scenario (default 12), BENCH_CONNECTIONS the concurrency
 * (default 10), BENCH_ROUNDS how many alternating runs those seconds are split into (default 6).
 * A ratio is the median of the per-round ratios (see pairedRatio).
 */
const SECONDS = positive('BENCH_SECONDS', 12);
const CONNECTIONS = positive('BENCH_CONNECTIONS', 10);
const ROUNDS = Math.min(positive('BENCH_ROUNDS', 6), SECONDS);
const ROUND_SECONDS = Math.round(SECONDS / ROUNDS);
// Long enough for JIT, the knex pool and ioredis to reach steady state; not counted.
const WARMUP_SECONDS = 2;
const SCENARIOS: Scenario[] = [clientCredentials, introspection];
const PLAN: ComparePlan = { connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, rounds: ROUNDS, roundSeconds: ROUND_SECONDS };

async function main(): Promise<void> {
  const gatehouse = await startGatehouseTarget();
  try {
    const groupCheck = await groupCheckSides(gatehouse);
    await groupCheck.check();
    const baseline = await startBaselineTarget(gatehouse.shared);
    try {
      const targets = [gatehouse, baseline];
      const results: ScenarioResult[] = [];
      for (const scenario of SCENARIOS) {
        const prepared = await Promise.all(targets.map((target) => scenario.prepare(target.url, gatehouse.clients)));
        for (const each of prepared) await each.check();
        process.stderr.write(`${scenario.name}: ${targets.map((t) => `${t.name} ${t.url}`).join(', ')}...\n`);
        const sides = targets.map((target, index) => ({ name: `${scenario.name} on ${target.name}`, url: target.url, request: prepared[index]!.request }));
        const [onGatehouse, onBaseline] = await compare(sides, PLAN);
        // Still the same answer after the run: the numbers are for the intended response, not a degraded one.
        for (const each of prepared) await each.check();
        results.push({ scenario: scenario.name, gatehouse: onGatehouse!, baseline: onBaseline! });
      }
      console.log(`\n${CONNECTIONS} connections; per side and scenario ${WARMUP_SECONDS} s warm-up, then ${ROUNDS} alternating runs of ${ROUND_SECONDS} s measured; ratio: median of the rounds' ratios (lowest–highest); autocannon in a worker thread\n`);
      console.log(table(results));
      const failed = belowTarget(results);
      console.log(failed.length ? `\nFAIL: below ${TARGET_RATIO} of baseline throughput: ${failed.join(', ')}` : '\nPASS: every scenario meets the target');

      process.stderr.write('live group check: a person token, with and without it...\n');
      const [withCheck, withoutCheck] = await compare([groupCheck.withCheck, groupCheck.withoutCheck], PLAN);
      await groupCheck.check();
      console.log(`\n${groupCheckReport(withCheck!, withoutCheck!)}`);
    } finally {
      await baseline.close();
    }
  } finally {
    await gatehouse.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
