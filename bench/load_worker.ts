import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadRequest, LoadResult, LoadRun } from './load.ts';

const load = workerData as LoadRequest;

// Off the main thread autocannon returns its histograms encoded, to be merged by the caller
// (its own multi-worker mode does that); aggregateResult decodes them. Not in @types/autocannon.
const { aggregateResult } = autocannon as unknown as {
  aggregateResult(results: unknown[], options: autocannon.Options): autocannon.Result;
};

async function run(seconds: number): Promise<LoadResult> {
  const options: autocannon.Options = {
    url: `${load.url}${load.request.path}`,
    method: 'POST',
    headers: load.request.headers,
    body: load.request.body,
    connections: load.connections,
    duration: seconds,
  };
  const result = aggregateResult([await autocannon(options)], options);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]));
  return {
    requests: result.requests.total,
    seconds: result.duration,
    reqPerSec: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

const warmup = await run(load.warmupSeconds);
const measured = await run(load.seconds);
parentPort!.postMessage({ warmup, measured } satisfies LoadRun);
