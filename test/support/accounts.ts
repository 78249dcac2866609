import type { Knex } from 'knex';
import { createAccount, type AccountFlags } from '../../src/admin/account_commands.ts';

/** Creates a local account exactly as `gatehouse accounts create` does; returns its subject. */
export async function createPerson(db: Knex, flags: AccountFlags & { username: string; password: string }): Promise<string> {
  return ((await createAccount(flags)(db)).json as { sub: string }).sub;
}
