import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';

/**
 * The tables whose rows expire, and which of their rows have, as a predicate an index serves
 * (ordered by that index's column, so a batch is found without scanning the table).
 */
const EXPIRING_TABLES = [
  { table: 'oidc_models', expired: always('expires_at < now()'), order: 'expires_at' },
  { table: 'consumed_markers', expired: always('expires_at < now()'), order: 'expires_at' },
  // rate-limiter-flexible's store: `expire` is in milliseconds since the epoch; NULL never expires.
  { table: 'rate_limits', expired: always('expire < (extract(epoch FROM now()) * 1000)::bigint'), order: 'expire' },
  // Audit events are kept for AUDIT_RETENTION_DAYS; 0 keeps them for ever.
  {
    table: 'audit_events',
    expired: ({ auditRetentionDays }: Required<JanitorOptions>): Predicate | undefined =>
      auditRetentionDays > 0 ? { sql: 'at < now() - make_interval(days => ?)', bindings: [auditRetentionDays] } : undefined,
    order: 'at',
  },
] as const;

interface Predicate {
  sql: string;
  bindings: number[];
}

function always(sql: string): () => Predicate {
  return () => ({ sql, bindings: [] });
}

export type ExpiringTable = (typeof EXPIRING_TABLES)[number]['table'];

export interface JanitorOptions {
  /** Rows per DELETE. */
  batchSize?: number;
  /** At most this many rows from each table in one run; the rest wait for the next. */
  limit?: number;
  /** Milliseconds between two batches. */
  pauseMs?: number;
  /** Audit events older than this many days are removed; 0 keeps them all. */
  auditRetentionDays?: number;
}

export interface JanitorResult {
  removed: number;
  tables: Record<ExpiringTable, number>;
}

// A batch of 1000 takes a few milliseconds and locks only its own rows; the pause between
// batches leaves the database's CPU and disk to live requests for a moment.
const DEFAULTS: Required<JanitorOptions> = { batchSize: 1000, limit: Infinity, pauseMs: 5, auditRetentionDays: 0 };

/** Deletes expired rows in bounded batches, table by table; says how many from each. */
export async function runJanitor(db: Knex, options: JanitorOptions = {}): Promise<JanitorResult> {
  const settings = { ...DEFAULTS, ...options };
  const { batchSize, limit, pauseMs } = settings;
  const tables = {} as Record<ExpiringTable, number>;
  for (const { table, expired, order } of EXPIRING_TABLES) {
    const predicate = expired(settings);
    let removed = 0;
    while (predicate && removed < limit) {
      const size = Math.min(batchSize, limit - removed);
      // By ctid, not by key: a row whose expiry a live request extends while the batch runs gets
      // a new ctid, so it is left alone rather than deleted with its old version.
      const result = await db.raw(
        `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${predicate.sql} ORDER BY ${order} LIMIT ?)`,
        [...predicate.bindings, size],
      );
      const count = result.rowCount ?? 0;
      removed += count;
      if (count < size) break;
      if (pauseMs > 0) await sleep(pauseMs);
    }
    tables[table] = removed;
  }
  return { removed: Object.values(tables).reduce((sum, n) => sum + n, 0), tables };
}
