import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { runJanitor, type JanitorOptions } from '../storage/janitor.ts';
import type { Config } from '../config.ts';
import { UsageError, type CommandResult } from './output.ts';

/** `gatehouse janitor [--batch-size N] [--limit N]`: parses first, so a bad number touches nothing. */
export function janitorCommand(args: string[], config: Config): (context: { db: Knex }) => Promise<CommandResult> {
  const { values } = parseArgs({ args, options: { 'batch-size': { type: 'string' }, limit: { type: 'string' } }, strict: true });
  const options: JanitorOptions = { auditRetentionDays: config.auditRetentionDays };
  if (values['batch-size'] !== undefined) options.batchSize = positiveInteger('--batch-size', values['batch-size']);
  if (values.limit !== undefined) options.limit = positiveInteger('--limit', values.limit);
  return async ({ db }) => {
    const result = await runJanitor(db, options);
    const perTable = Object.entries(result.tables).map(([table, count]) => `${table} ${count}`).join(', ');
    return { json: result, text: `removed ${result.removed} expired rows (${perTable})` };
  };
}

function positiveInteger(flag: string, value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new UsageError(`${flag} takes a whole number of rows from 1 to 999999999 (got ${value})`);
  return Number(value);
}
