import type { Knex } from 'knex';

/**
 * The newest unexpired Grant of an account for a client, so consent given in one session is
 * honoured in the next (oidc-provider itself only looks in the current session).
 */
export async function latestGrantId(db: Knex, accountId: string, clientId: string): Promise<string | undefined> {
  const row: { id: string } | undefined = await db('oidc_models')
    .select('id')
    .where({ model: 'Grant' })
    .whereRaw("payload->>'accountId' = ? AND payload->>'clientId' = ?", [accountId, clientId])
    .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', new Date()))
    .orderBy('updated_at', 'desc')
    .first();
  return row?.id;
}
