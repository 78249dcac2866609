import { Worker } from 'node:worker_threads';
import { once } from 'node:events';

/** One HTTP request, repeated by every connection. */
export interface HttpRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Where to send the request: each side of a comparison gets its own prepared request. */
export interface LoadTarget {
  url: string;
  request: HttpRequest;
}

export interface LoadPlan {
  targets: LoadTarget[];
  connections: number;
  warmupSeconds: number;
  /** Measured seconds per target, split into `rounds` runs that alternate between the targets. */
  seconds: number;
  rounds: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Count per status code, to say what went wrong when something did. */
  statusCodes: Record<string, number>;
}

export interface TargetRun {
  warmup: LoadResult;
  measured: LoadResult;
}

/**
 * Runs autocannon in a worker thread. The servers under test share the main thread's event
 * loop; a load generator there would take turns with them and its own CPU time would appear
 * as server latency. In a worker it runs on the second core, the same way for every target.
 */
export async function fire(plan: LoadPlan): Promise<TargetRun[]> {
  const worker = new Worker(new URL('./load_worker.ts', import.meta.url), { workerData: plan });
  const failed = once(worker, 'error').then(([error]) => Promise.reject(error as Error));
  const [runs] = (await Promise.race([once(worker, 'message'), failed])) as [TargetRun[]];
  await once(worker, 'exit');
  return runs;
}
