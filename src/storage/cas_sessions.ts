import { createHash } from 'node:crypto';
import type { Adapter } from 'oidc-provider';
import { adapterFor, type Stores } from './adapter_router.ts';
import { isConcurrentReuse } from './errors.ts';

/** The Gatehouse session a CAS service ticket signed in. */
export interface CasSession {
  /** The stable uid of oidc-provider's Session (its id changes at every login). */
  sessionUid: string;
  accountId: string;
}

/**
 * Service ticket -> session, for CAS single logout: kept beside the sessions (Redis when
 * configured, else the oidc_models table, which the janitor sweeps) as long as a session lives.
 * Keyed by the ticket's SHA-256: the ticket is the only credential of a logout request, so a
 * reader of the store cannot forge one.
 */
export class CasSessions {
  readonly #adapter: Adapter;

  constructor(stores: Stores) {
    this.#adapter = adapterFor(stores, 'CasSession');
  }

  async remember(ticket: string, session: CasSession, ttlSeconds: number): Promise<void> {
    await this.#adapter.upsert(key(ticket), { ...session }, ttlSeconds);
  }

  /** The session of a ticket, once: a replayed or concurrent second logout request gets nothing. */
  async take(ticket: string): Promise<CasSession | undefined> {
    try {
      await this.#adapter.consume(key(ticket));
    } catch (error) {
      // Unknown, expired or already taken.
      if (isConcurrentReuse(error)) return undefined;
      throw error;
    }
    const found = await this.#adapter.find(key(ticket));
    return found ? { sessionUid: String(found.sessionUid), accountId: String(found.accountId) } : undefined;
  }
}

function key(ticket: string): string {
  return createHash('sha256').update(ticket).digest('base64url');
}
