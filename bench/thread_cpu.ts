import { readFileSync } from 'node:fs';

// /proc reports thread CPU time in clock ticks: 100 per second on Linux.
const TICKS_PER_SECOND = 100;

/** CPU seconds used so far by the main thread alone (Linux); undefined elsewhere. */
export function mainThreadCpuSeconds(): number | undefined {
  try {
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
