import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Knex } from 'knex';
import { alreadyConsumed } from './errors.ts';

const TABLE = 'oidc_models';

interface Row {
  payload: AdapterPayload;
  consumed_at: Date | null;
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
    return this.#findWhere({ id });
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere({ uid });
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere({ user_code: userCode });
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

  async #findWhere(where: Record<string, string>): Promise<AdapterPayload | undefined> {
    const row: Row | undefined = await this.#db(TABLE)
      .select('payload', 'consumed_at')
      .where({ model: this.#model, ...where })
      .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', new Date()))
      .first();
    if (!row) return undefined;
    return row.consumed_at ? { ...row.payload, consumed: epoch(row.consumed_at) } : row.payload;
  }
}

function epoch(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
