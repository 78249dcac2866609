import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadPlan, LoadResult, LoadTarget, TargetRun } from './load.ts';

const plan = workerData as LoadPlan;

// Off the main thread autocannon returns its histograms encoded, for the caller to merge (its
// own multi-worker mode does that); aggregateResult decodes and merges them. Not in @types/autocannon.
const { aggregateResult } = autocannon as unknown as {
  aggregateResult(results: unknown[], options: autocannon.Options): autocannon.Result;
};

function optionsFor(target: LoadTarget, seconds: number): autocannon.Options {
  return {
    url: `${target.url}${target.request.path}`,
    method: 'POST',
    headers: target.request.headers,
    body: target.request.body,
    connections: plan.connections,
    duration: seconds,
  };
}

function summary(raw: unknown[], options: autocannon.Options): LoadResult {
  const result = aggregateResult(raw, options);
  // The merged duration is the last run's; the runs' own durations add up to the measured time.
  const seconds = (raw as { duration: number }[]).reduce((sum, run) => sum + run.duration, 0);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]));
  return {
    requests: result.requests.total,
    seconds,
    reqPerSec: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

const warmups: LoadResult[] = [];
for (const target of plan.targets) {
  const options = optionsFor(target, plan.warmupSeconds);
  warmups.push(summary([await autocannon(options)], options));
}
// Alternating short runs, so a slow moment on a shared machine hits every target alike.
const raw: unknown[][] = plan.targets.map(() => []);
for (let round = 0; round < plan.rounds; round++) {
  const order = plan.targets.map((_, index) => index);
  if (round % 2 === 1) order.reverse();
  for (const index of order) raw[index]!.push(await autocannon(optionsFor(plan.targets[index]!, plan.roundSeconds)));
}
const runs: TargetRun[] = plan.targets.map((target, index) => ({
  warmup: warmups[index]!,
  measured: summary(raw[index]!, optionsFor(target, plan.rounds * plan.roundSeconds)),
}));
parentPort!.postMessage(runs);
