import type { Knex } from 'knex';
import { createClient, type ClientFlags } from '../../src/admin/client_commands.ts';
import { loadScopeCatalogue } from '../../src/storage/enterprise_scopes.ts';

export interface RegisteredClient {
  client_id: string;
  client_secret: string;
}

/** Registers a client exactly as `gatehouse clients create` does. */
export async function registerClient(db: Knex, flags: ClientFlags, loginScope = 'auth-cas'): Promise<RegisteredClient> {
  const result = await createClient(await loadScopeCatalogue(db, loginScope), flags)(db);
  return result.json as RegisteredClient;
}
