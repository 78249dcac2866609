import { pairedRatio, type Measured } from './compare.ts';

/** Gatehouse must keep at least this share of bare oidc-provider's throughput. */
export const TARGET_RATIO = 0.8;

export interface ScenarioResult {
  scenario: string;
  gatehouse: Measured;
  baseline: Measured;
}

/** The scenarios whose (paired, median) ratio misses the target. */
export function belowTarget(results: ScenarioResult[]): string[] {
  return results.filter((r) => pairedRatio(r.gatehouse, r.baseline).median < TARGET_RATIO).map((r) => r.scenario);
}

export function table(results: ScenarioResult[]): string {
  const header = [
    'scenario', 'Gatehouse req/s', 'Gatehouse p99 ms', 'baseline req/s', 'baseline p99 ms', 'ratio (rounds)', `target >= ${TARGET_RATIO}`,
    'Gatehouse CPU µs/req', 'baseline CPU µs/req',
  ];
  const rows = results.map(({ scenario, gatehouse, baseline }) => {
    const ratio = pairedRatio(gatehouse, baseline);
    return [
      scenario,
      gatehouse.reqPerSec.toFixed(0),
      gatehouse.p99Ms.toFixed(1),
      baseline.reqPerSec.toFixed(0),
      baseline.p99Ms.toFixed(1),
      `${ratio.median.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`,
      ratio.median >= TARGET_RATIO ? 'PASS' : 'FAIL',
      gatehouse.cpuUsPerRequest?.toFixed(0) ?? 'n/a',
      baseline.cpuUsPerRequest?.toFixed(0) ?? 'n/a',
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...rows.map(line)].join('\n');
}

/** The live group check may cost at most this share of introspection throughput (warm cache). */
const GROUP_CHECK_MAX_COST = 0.2;

export function groupCheckReport(withCheck: Measured, withoutCheck: Measured): string {
  const ratio = pairedRatio(withCheck, withoutCheck);
  const cost = 1 - ratio.median;
  return [
    `live group check at introspection of a person's token (warm cache): with it ${withCheck.reqPerSec.toFixed(0)} req/s (p99 ${withCheck.p99Ms.toFixed(1)} ms, ${withCheck.cpuUsPerRequest?.toFixed(0) ?? 'n/a'} µs CPU/req)`,
    `  without it ${withoutCheck.reqPerSec.toFixed(0)} req/s (p99 ${withoutCheck.p99Ms.toFixed(1)} ms, ${withoutCheck.cpuUsPerRequest?.toFixed(0) ?? 'n/a'} µs CPU/req)`,
    `  cost ${(cost * 100).toFixed(1)}% of throughput (rounds ${((1 - ratio.max) * 100).toFixed(1)}% to ${((1 - ratio.min) * 100).toFixed(1)}%), target < ${GROUP_CHECK_MAX_COST * 100}%: ${cost < GROUP_CHECK_MAX_COST ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}
