import pg from 'pg';
import type { Knex } from 'knex';
import { TtlCache } from '../ttl_cache.ts';

/** The channel on which a client change is announced (payload: the client id). */
export const CLIENT_CHANGES_CHANNEL = 'gatehouse_client_changes';

/** Announces a client change to every running provider; delivered when the transaction commits. */
export async function announceClientChange(db: Knex, clientId: string): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [CLIENT_CHANGES_CHANNEL, clientId]);
}

/**
 * Clients are read on every token and introspection request, so the provider keeps them in
 * memory and forgets one as soon as Postgres announces a change to it (LISTEN/NOTIFY). While
 * the listening connection is down nothing is cached, so a change is never missed; the max age
 * bounds the damage of any notification lost in between.
 */
export class ClientCache {
  // Even with every notification delivered, a cached client is read again after this long.
  static readonly MAX_AGE_SECONDS = 60;
  readonly #entries = new TtlCache<unknown>(ClientCache.MAX_AGE_SECONDS);
  #listening = false;
  #listener: pg.Client | undefined;
  #closed = false;

  /** Starts listening on a dedicated connection (re-established with backoff when it drops). */
  async listen(connection: pg.ClientConfig): Promise<void> {
    let delayMs = 100;
    const connect = async (): Promise<void> => {
      if (this.#closed) return;
      const client = new pg.Client(connection);
      client.on('error', () => drop(client));
      client.on('end', () => drop(client));
      client.on('notification', (message) => {
        if (message.channel === CLIENT_CHANGES_CHANNEL && message.payload) this.#entries.forget(message.payload);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CLIENT_CHANGES_CHANNEL}`);
        this.#listener = client;
        this.#listening = true;
        delayMs = 100;
      } catch {
        drop(client);
      }
    };
    const drop = (client: pg.Client): void => {
      if (this.#listener !== undefined && this.#listener !== client) return;
      this.#listening = false;
      this.#listener = undefined;
      this.#entries.clear();
      client.end().catch(() => {});
      if (!this.#closed) {
        setTimeout(() => void connect(), delayMs).unref();
        delayMs = Math.min(delayMs * 2, 5000);
      }
    };
    await connect();
  }

  get<T>(clientId: string, load: () => Promise<T>): Promise<T> {
    return this.#listening ? (this.#entries.get(clientId, load) as Promise<T>) : load();
  }

  forget(clientId: string): void {
    this.#entries.forget(clientId);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    await this.#listener?.end().catch(() => {});
  }
}
