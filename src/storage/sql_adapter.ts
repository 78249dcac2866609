import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Knex } from 'knex';
import type { ClientBase } from 'pg';
import { alreadyConsumed } from './errors.ts';

const TABLE = 'oidc_models';

type Row = {
  payload: AdapterPayload;
  consumed_at: Date | null;
};

type LookupColumn = 'id' | 'uid' | 'user_code';

/**
 * The finds are on the hot paths (a Grant at every introspection of a person's token, the
 * refresh token at every refresh, clients whenever the cache misses), so they go straight to the
 * pg driver on a connection of knex's pool: building the query in knex cost more CPU than the
 * driver's own work (measured with bench/run.ts before clients were cached: -27% CPU per
 * introspection).
 * The SQL is what the builder produced, the expiry clock Node's as in upsert; unnamed
 * statements, so nothing goes stale behind a transaction-pooling proxy.
 */
const FIND_BY: Readonly<Record<LookupColumn, string>> = Object.freeze({
  id: findBy('id'),
  uid: findBy('uid'),
  user_code: findBy('user_code'),
});

function findBy(column: LookupColumn): string {
  return `SELECT payload, consumed_at FROM ${TABLE} WHERE model = $1 AND ${column} = $2 AND (expires_at IS NULL OR expires_at > $3) LIMIT 1`;
}

/** knex's public API for borrowing one of its pooled connections (inside a transaction: the transaction's). */
interface ConnectionLender {
  acquireConnection(): Promise<ClientBase>;
  releaseConnection(connection: ClientBase): Promise<void>;
}

/** oidc-provider's models in one Postgres table (jsonb payload), on real Postgres or PGlite. */
export class SqlAdapter implements Adapter {
  readonly #db: Knex;
  readonly #model: string;

  constructor(db: Knex, model: string) {
    this.#db = db;
    this.#model = model;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const row = {
      model: this.#model,
      id,
      payload: JSON.stringify(payload),
      grant_id: payload.grantId ?? null,
      uid: payload.uid ?? null,
      user_code: payload.userCode ?? null,
      expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      updated_at: new Date(),
    };
    // consumed_at is deliberately not overwritten: saving an artifact again never revives it.
    await this.#db(TABLE).insert(row).onConflict(['model', 'id'])
      .merge(['payload', 'grant_id', 'uid', 'user_code', 'expires_at', 'updated_at']);
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('id', id);
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('uid', uid);
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('user_code', userCode);
  }

  async consume(id: string): Promise<void> {
    // One conditional UPDATE is the check-and-set: of concurrent callers exactly one gets the row.
    const updated = await this.#db(TABLE)
      .where({ model: this.#model, id })
      .whereNull('consumed_at')
      .update({ consumed_at: new Date() }, ['id']);
    if (updated.length === 0) throw alreadyConsumed(this.#model);
  }

  async destroy(id: string): Promise<void> {
    await this.#db(TABLE).where({ model: this.#model, id }).delete();
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#db(TABLE).where({ model: this.#model, grant_id: grantId }).delete();
  }

  async #findBy(column: LookupColumn, value: string): Promise<AdapterPayload | undefined> {
    const lender = this.#db.client as ConnectionLender;
    const connection = await lender.acquireConnection();
    let row: Row | undefined;
    try {
      row = (await connection.query<Row>(FIND_BY[column], [this.#model, value, new Date()])).rows[0];
    } finally {
      await lender.releaseConnection(connection);
    }
    if (!row) return undefined;
    return row.consumed_at ? { ...row.payload, consumed: epoch(row.consumed_at) } : row.payload;
  }
}

function epoch(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
