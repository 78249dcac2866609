import { Worker } from 'node:worker_threads';
import { once } from 'node:events';

/** One HTTP request, repeated by every connection. */
export interface HttpRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadRequest {
  url: string;
  request: HttpRequest;
  connections: number;
  warmupSeconds: number;
  seconds: number;
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

export interface LoadRun {
  warmup: LoadResult;
  measured: LoadResult;
}

/**
 * Runs autocannon in a worker thread. The servers under test share the main thread's event
 * loop; a load generator there would take turns with them and its own CPU time would appear
 * as server latency. In a worker it runs on the second core, the same way for both sides.
 */
export async function fire(load: LoadRequest): Promise<LoadRun> {
  const worker = new Worker(new URL('./load_worker.ts', import.meta.url), { workerData: load });
  const [run] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([error]) => Promise.reject(error))])) as [LoadRun];
  await once(worker, 'exit');
  return run;
}
