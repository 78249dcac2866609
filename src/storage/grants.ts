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

/** What a person has allowed a client: the scopes of one Grant and its lifetime. */
export interface AccountGrant {
  grantId: string;
  clientId: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
}

interface GrantPayload {
  clientId: string;
  iat: number;
  openid?: { scope?: string };
  resources?: Record<string, string>;
}

/** The unexpired Grants of an account, oldest first; only those for one client if it is given. */
export async function grantsOf(db: Knex, accountId: string, clientId?: string): Promise<AccountGrant[]> {
  const query = db('oidc_models')
    .select('id', 'payload', 'expires_at')
    .where({ model: 'Grant' })
    .whereRaw("payload->>'accountId' = ?", [accountId])
    .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', new Date()))
    .orderByRaw("payload->>'iat', id");
  if (clientId !== undefined) query.whereRaw("payload->>'clientId' = ?", [clientId]);
  const rows: { id: string; payload: GrantPayload; expires_at: Date | null }[] = await query;
  return rows.map((row) => ({
    grantId: row.id,
    clientId: row.payload.clientId,
    // OIDC scopes and those granted for a resource (a JWT access token's) are one list to a person.
    scopes: [...new Set([row.payload.openid?.scope ?? '', ...Object.values(row.payload.resources ?? {})].join(' ').split(' ').filter(Boolean))],
    createdAt: new Date(row.payload.iat * 1000),
    expiresAt: row.expires_at,
  }));
}
