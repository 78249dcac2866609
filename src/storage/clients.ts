import type { Knex } from 'knex';
import type { AdapterPayload } from 'oidc-provider';
import type { ClientMetadata } from '../policy/client_kinds.ts';
import { SqlAdapter } from './sql_adapter.ts';
import { announceClientChange } from './client_changes.ts';

/** A registered client as stored: metadata, id and (for confidential clients) the secret digest. */
export type StoredClient = ClientMetadata & { client_id: string; client_secret?: string };

/**
 * Clients are oidc-provider's `Client` model rows. Every change is announced (NOTIFY), so running
 * providers drop their cached copy and use the new one on their next request.
 */
export class ClientStore {
  readonly #db: Knex;
  readonly #adapter: SqlAdapter;

  constructor(db: Knex) {
    this.#db = db;
    this.#adapter = new SqlAdapter(db, 'Client');
  }

  async find(clientId: string): Promise<StoredClient | undefined> {
    return (await this.#adapter.find(clientId)) as StoredClient | undefined;
  }

  async save(client: StoredClient): Promise<void> {
    await this.#db.transaction(async (trx) => {
      await new SqlAdapter(trx, 'Client').upsert(client.client_id, client as unknown as AdapterPayload);
      await announceClientChange(trx, client.client_id);
    });
  }

  /** True when a client was deleted. Its tokens stop working: the provider no longer finds the client. */
  async delete(clientId: string): Promise<boolean> {
    return this.#db.transaction(async (trx) => {
      const removed = await trx('oidc_models').where({ model: 'Client', id: clientId }).delete();
      await announceClientChange(trx, clientId);
      return removed > 0;
    });
  }

  async list(): Promise<StoredClient[]> {
    const rows: { payload: StoredClient }[] = await this.#db('oidc_models').select('payload').where({ model: 'Client' })
      .orderByRaw("payload->>'client_name', id");
    return rows.map((row) => row.payload);
  }
}
