import type { Knex } from 'knex';

// Small batches keep each DELETE short, so it never holds locks the token endpoint waits on.
const DEFAULT_BATCH_SIZE = 1000;

/** Deletes expired rows in bounded batches; returns how many it removed. */
export async function runJanitor(db: Knex, batchSize = DEFAULT_BATCH_SIZE): Promise<number> {
  let removed = 0;
  for (const table of ['oidc_models', 'consumed_markers']) {
    for (;;) {
      const result = await db.raw(
        `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE expires_at < now() LIMIT ?)`,
        [batchSize],
      );
      removed += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < batchSize) break;
    }
  }
  return removed;
}
