import type { Knex } from 'knex';

const TABLE = 'consumed_markers';

/** The durable record that an artifact kept in Redis was consumed (see the migration). */
export class ConsumedMarkers {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

  /** Records the consumption; true for exactly one caller per artifact. */
  async mark(model: string, id: string, expiresAt: Date): Promise<boolean> {
    const inserted = await this.#db(TABLE)
      .insert({ model, id, expires_at: expiresAt })
      .onConflict(['model', 'id'])
      .ignore()
      .returning('id');
    return inserted.length === 1;
  }

  /** Epoch seconds of the consumption, if it happened. */
  async consumedAt(model: string, id: string): Promise<number | undefined> {
    const row: { consumed_at: Date } | undefined = await this.#db(TABLE).select('consumed_at').where({ model, id }).first();
    return row ? Math.floor(row.consumed_at.getTime() / 1000) : undefined;
  }
}
