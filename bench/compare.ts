import { LoadGenerator, summarize, type HttpRequest, type LoadResult, type RawResult } from './load.ts';
import { mainThreadCpuSeconds } from './thread_cpu.ts';

export interface Side {
  name: string;
  url: string;
  request: HttpRequest;
}

export interface ComparePlan {
  connections: number;
  warmupSeconds: number;
  rounds: number;
  roundSeconds: number;
}

export interface Measured extends LoadResult {
  /** Main-thread (server) CPU per request: steadier than req/s when the machine is shared. */
  cpuUsPerRequest: number | undefined;
  /** req/s of each round, in round order: rounds of different sides at one index ran back to back. */
  roundReqPerSec: number[];
}

/**
 * Loads each side in turn: a warm-up each, then short runs alternating in order, so a slow
 * moment on a shared machine hits every side alike. Throws on any failed request.
 */
export async function compare(sides: Side[], plan: ComparePlan): Promise<Measured[]> {
  const generator = new LoadGenerator();
  try {
    for (const side of sides) {
      assertClean(`${side.name} (warm-up)`, summarize([await generator.run(runOf(side, plan, plan.warmupSeconds))]));
    }
    const raw: RawResult[][] = sides.map(() => []);
    const cpu: (number | undefined)[] = sides.map(() => 0);
    for (let round = 0; round < plan.rounds; round++) {
      const order = sides.map((_, index) => index);
      if (round % 2 === 1) order.reverse();
      for (const index of order) {
        const before = mainThreadCpuSeconds();
        raw[index]!.push(await generator.run(runOf(sides[index]!, plan, plan.roundSeconds)));
        const after = mainThreadCpuSeconds();
        cpu[index] = before === undefined || after === undefined ? undefined : cpu[index]! + (after - before);
      }
    }
    return sides.map((side, index) => {
      const result = summarize(raw[index]!);
      assertClean(side.name, result);
      const seconds = cpu[index];
      return {
        ...result,
        cpuUsPerRequest: seconds === undefined ? undefined : (seconds / result.requests) * 1e6,
        roundReqPerSec: raw[index]!.map((run) => summarize([run]).reqPerSec),
      };
    });
  } finally {
    await generator.close();
  }
}

/**
 * The ratio of two sides' throughput as the median of their per-round ratios. Each round of one
 * side ran right next to the same round of the other, so a busy moment on the shared machine
 * skews one round's ratio, not the verdict, as it would a ratio of totals.
 */
export function pairedRatio(side: Measured, reference: Measured): { median: number; min: number; max: number } {
  const ratios = side.roundReqPerSec.map((reqPerSec, round) => reqPerSec / reference.roundReqPerSec[round]!).sort((a, b) => a - b);
  const middle = ratios.length / 2;
  const median = ratios.length % 2 ? ratios[Math.floor(middle)]! : (ratios[middle - 1]! + ratios[middle]!) / 2;
  return { median, min: ratios[0]!, max: ratios[ratios.length - 1]! };
}

function runOf(side: Side, plan: ComparePlan, seconds: number) {
  return { url: side.url, request: side.request, connections: plan.connections, seconds };
}

/** A benchmark of errors is worthless: any non-2xx, connection error or timeout ends the run. */
export function assertClean(what: string, result: LoadResult): void {
  if (result.requests === 0 || result.non2xx || result.errors || result.timeouts) {
    throw new Error(`${what}: ${result.requests} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts; status codes ${JSON.stringify(result.statusCodes)}`);
  }
}
