import pg from 'pg';
import type { Knex } from 'knex';
import { TtlCache } from '../ttl_cache.ts';

/** The channel on which a client change is announced (payload: the client id). */
export const CLIENT_CHANGES_CHANNEL = 'gatehouse_client_changes';

/** The listening connection's application_name, as pg_stat_activity shows it. */
export const LISTENER_NAME = 'gatehouse-client-changes';

// A connect that hangs (a partition) is given up and retried rather than waited on forever;
// so is a heartbeat that gets no answer.
const LISTENER_CONNECT_TIMEOUT_MS = 3000;

// A LISTEN connection sends nothing of its own, so one dropped without a word (a NAT or load
// balancer forgetting an idle flow, a partition) would go unnoticed for the OS's two hours of
// keepalive: no client change or key rotation heard, clients cached as if it were fine. A query
// this often finds out within seconds, and keeps such an idle timer from running out.
const LISTENER_HEARTBEAT_MS = 30_000;

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
  readonly #partitions = new Set<TtlCache<unknown>>();
  #listening = false;
  #listener: pg.Client | undefined;
  #closed = false;
  readonly #subscribers = new Map<string, () => void>();
  readonly #heartbeatMs: number;

  constructor({ heartbeatMs = LISTENER_HEARTBEAT_MS } = {}) {
    this.#heartbeatMs = heartbeatMs;
  }

  /**
   * Starts listening on a dedicated connection, re-established with backoff when it drops.
   * One connection at a time: each attempt drops at most once ('error' and 'end' both come
   * for one failure) and only the newest attempt schedules the next, so outages cannot
   * multiply the loops.
   */
  async listen(connection: pg.ClientConfig): Promise<void> {
    let delayMs = 100;
    const connect = async (): Promise<void> => {
      if (this.#closed) return;
      const client = new pg.Client({ ...connection, application_name: LISTENER_NAME, connectionTimeoutMillis: LISTENER_CONNECT_TIMEOUT_MS, query_timeout: LISTENER_CONNECT_TIMEOUT_MS, keepAlive: true });
      this.#listener = client;
      let dropped = false;
      let heartbeat: NodeJS.Timeout | undefined;
      const drop = (): void => {
        if (dropped) return;
        dropped = true;
        clearInterval(heartbeat);
        this.#listening = false;
        for (const entries of this.#partitions) entries.clear();
        client.end().catch(() => {});
        if (this.#closed) return;
        setTimeout(() => void connect(), delayMs).unref();
        delayMs = Math.min(delayMs * 2, 5000);
      };
      client.on('error', drop);
      client.on('end', drop);
      client.on('notification', (message) => {
        this.#subscribers.get(message.channel)?.();
        if (message.channel !== CLIENT_CHANGES_CHANNEL || !message.payload) return;
        for (const entries of this.#partitions) entries.forget(message.payload);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CLIENT_CHANGES_CHANNEL}`);
        for (const channel of this.#subscribers.keys()) await client.query(`LISTEN ${channel}`);
        if (dropped) return;
        this.#listening = true;
        delayMs = 100;
        heartbeat = setInterval(() => void client.query('SELECT 1').catch(drop), this.#heartbeatMs).unref();
        // Whatever was announced while the connection was down is picked up now.
        for (const changed of this.#subscribers.values()) changed();
      } catch {
        drop();
      }
    };
    await connect();
  }

  /**
   * Calls `changed` on each notification on another channel, and after each reconnect. The
   * listening connection is shared: one per instance, whatever it listens for.
   */
  async onNotify(channel: string, changed: () => void): Promise<void> {
    this.#subscribers.set(channel, changed);
    if (this.#listening) await this.#listener?.query(`LISTEN ${channel}`).catch(() => {});
  }

  /**
   * A cache of its own, emptied by the same notifications. Each provider needs one: its Client
   * objects belong to its own Client class and must not be handed to another provider.
   */
  partition<T>(): (clientId: string, load: () => Promise<T>) => Promise<T> {
    const entries = new TtlCache<T>('clients', ClientCache.MAX_AGE_SECONDS);
    this.#partitions.add(entries as TtlCache<unknown>);
    return (clientId, load) => (this.#listening ? entries.get(clientId, load) : load());
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    await this.#listener?.end().catch(() => {});
  }
}
