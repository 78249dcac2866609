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
  /** Measured runs per target, alternating between the targets. */
  rounds: number;
  /** Whole seconds: autocannon checks its deadline once a second. */
  roundSeconds: number;
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
  // A run that hangs is a failure to report, not a process to leave behind with its database.
  const limitSeconds = 2 * plan.targets.length * (plan.warmupSeconds + plan.rounds * (plan.roundSeconds + 1));
  try {
    // once() also rejects with the worker's 'error' event, if that comes first.
    const [runs] = (await once(worker, 'message', { signal: AbortSignal.timeout(limitSeconds * 1000) })) as [TargetRun[]];
    return runs;
  } catch (error) {
    throw (error as Error).name === 'AbortError' ? new Error(`the load run did not finish within ${limitSeconds} s`) : error;
  } finally {
    await worker.terminate();
  }
}
