const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/**
 * A duration as the CLI's flags take it (`--expires 24h`, `--since 7d`): a whole number and one
 * unit, s, m, h or d; its length in seconds, or undefined for anything else. Each flag bounds it.
 */
export function durationSeconds(value: string): number | undefined {
  const match = /^(\d{1,6})([smhd])$/.exec(value);
  return match ? Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS] : undefined;
}
