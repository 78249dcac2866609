import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import autocannon from 'autocannon';

/** One HTTP request, repeated by every connection. */
export interface HttpRequest {
  /** POST unless said (the token endpoints); GET for an API route. */
  method?: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadRun {
  url: string;
  request: HttpRequest;
  connections: number;
  /** Whole seconds: autocannon checks its deadline once a second. */
  seconds: number;
}

/** autocannon's result as it leaves a worker thread: histograms still encoded. */
export type RawResult = { duration: number } & Record<string, unknown>;

export interface LoadResult {
  requests: number;
  reqPerSec: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Count per status code, to say what went wrong when something did. */
  statusCodes: Record<string, number>;
}

// Decodes and merges results from worker threads (autocannon's own multi-worker mode uses it).
const { aggregateResult } = autocannon as unknown as {
  aggregateResult(results: RawResult[], options: Partial<autocannon.Options>): autocannon.Result;
};

/**
 * autocannon in a worker thread, one run at a time. The servers under test share the main
 * thread's event loop; a load generator there would take turns with them and its own CPU time
 * would count as theirs. In a worker it runs on the other core, alike for every target, and
 * the main thread's CPU time during a run is the server's.
 */
export class LoadGenerator {
  readonly #worker = new Worker(new URL('./load_worker.ts', import.meta.url));

  async run(load: LoadRun): Promise<RawResult> {
    this.#worker.postMessage(load);
    // A run that hangs is a failure to report, not a process left behind with its database.
    const limitSeconds = 2 * load.seconds + 30;
    try {
      // once() also rejects with the worker's 'error' event, if that comes first.
      const [result] = (await once(this.#worker, 'message', { signal: AbortSignal.timeout(limitSeconds * 1000) })) as [RawResult];
      return result;
    } catch (error) {
      throw (error as Error).name === 'AbortError' ? new Error(`a ${load.seconds} s load run did not finish within ${limitSeconds} s`) : error;
    }
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

/** One summary of several runs against one target: requests add up, latencies merge. */
export function summarize(runs: RawResult[]): LoadResult {
  const result = aggregateResult(runs, { url: 'http://unused' });
  const seconds = runs.reduce((sum, run) => sum + run.duration, 0);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]));
  return {
    requests: result.requests.total,
    reqPerSec: result.requests.total / seconds,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}
