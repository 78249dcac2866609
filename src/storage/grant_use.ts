import type { Knex } from 'knex';

/**
 * When a Grant was last used to issue a token (a code redeemed, a refresh), for the account
 * page: a row of its own in oidc_models, beside the Grant, expiring with it (the janitor sweeps
 * it then), its `updated_at` the time of use. oidc-provider's Grant has no such field and is
 * saved only when consent changes.
 */
const GRANT_USE = 'GrantUse';

/** Records a use of the grant now; a use within `everySeconds` of the last recorded one changes nothing. */
export async function recordGrantUse(db: Knex, grantId: string, expiresAt: Date, everySeconds: number): Promise<void> {
  await db('oidc_models')
    .insert({ model: GRANT_USE, id: grantId, payload: '{}', expires_at: expiresAt, updated_at: db.fn.now() })
    .onConflict(['model', 'id'])
    .merge({ expires_at: db.raw('excluded.expires_at'), updated_at: db.raw('excluded.updated_at') })
    .where('oidc_models.updated_at', '<', db.raw('now() - make_interval(secs => ?)', [everySeconds]));
}

/** The last recorded use of each of these grants that has one. */
export async function lastUsesOf(db: Knex, grantIds: string[]): Promise<Map<string, Date>> {
  if (grantIds.length === 0) return new Map();
  const rows: { id: string; updated_at: Date }[] = await db('oidc_models').select('id', 'updated_at').where({ model: GRANT_USE }).whereIn('id', grantIds);
  return new Map(rows.map((row) => [row.id, new Date(row.updated_at)]));
}
