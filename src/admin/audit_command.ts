import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { queryAudit, type AuditRecord } from '../storage/audit_log.ts';
import { AccountStore } from '../storage/accounts.ts';
import { UsageError, type CommandResult } from './output.ts';
import { durationSeconds } from './durations.ts';

export const AUDIT_USAGE = 'audit [--since ISO|DURATION] [--user U] [--client C] [--limit N]';

/** `--since 2026-11-01`, `--since 2026-11-30T08:00:00Z` or `--since 24h` (also m, d). */
function parseSince(value: string, now = Date.now()): Date {
  const seconds = durationSeconds(value);
  if (seconds !== undefined) return new Date(now - seconds * 1000);
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(value) ? new Date(value) : undefined;
  if (!iso || Number.isNaN(iso.getTime()) || !isCalendarDate(value.slice(0, 10))) {
    throw new UsageError(`--since takes an ISO 8601 date or time (2026-11-01, 2026-11-01T08:00:00Z) or a duration (30m, 24h, 7d); got ${JSON.stringify(value)}`);
  }
  return iso;
}

/** Date would take 2026-02-30 for March 2: a day the month does not have is a typo. */
function isCalendarDate(date: string): boolean {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const parsed = new Date(Date.UTC(year, month - 1, day));
  return parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day;
}

function parseLimit(value: string): number {
  if (!/^[1-9]\d{0,5}$/.test(value)) throw new UsageError(`--limit takes a whole number of events from 1 to 999999 (got ${JSON.stringify(value)})`);
  return Number(value);
}

function auditLine(record: AuditRecord): string {
  const who = [
    `actor=${record.actor}`,
    record.username ? `user=${record.username}` : record.accountId ? `sub=${record.accountId}` : undefined,
    record.clientId ? `client=${record.clientId}` : undefined,
    record.ip ? `ip=${record.ip}` : undefined,
    ...Object.entries(record.detail).map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(' ') : String(value)}`),
  ].filter(Boolean);
  return `${record.at.toISOString()}  ${record.event.padEnd(24)} ${who.join(' ')}`;
}

/** `gatehouse audit`: the newest matching events (1000 unless --limit), oldest first. Parses first. */
export function auditCommand(args: string[]): (context: { db: Knex }) => Promise<CommandResult> {
  const { values } = parseArgs({
    args,
    options: { since: { type: 'string' }, user: { type: 'string' }, client: { type: 'string' }, limit: { type: 'string' } },
    strict: true,
  });
  const query = {
    since: values.since === undefined ? undefined : parseSince(values.since),
    user: values.user,
    clientId: values.client,
    limit: values.limit === undefined ? 1000 : parseLimit(values.limit),
  };
  return async ({ db }) => {
    // A username is matched as the account it names (any case or Unicode form, as at sign-in),
    // by the account's sub: its events stay found after a rename. Anything else is taken as a sub.
    const account = query.user === undefined ? undefined : await new AccountStore(db).findByUsername(query.user);
    const users = query.user === undefined ? undefined : account ? [account.id, account.username] : [query.user];
    const records = await queryAudit(db, { ...query, users });
    return {
      json: records.map((record) => ({
        id: record.id,
        at: record.at.toISOString(),
        event: record.event,
        actor: record.actor,
        sub: record.accountId,
        username: record.username,
        client_id: record.clientId,
        ip: record.ip,
        detail: record.detail,
      })),
      text: records.length ? records.map(auditLine).join('\n') : 'no audit events match',
    };
  };
}
