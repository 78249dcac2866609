import type { Knex } from 'knex';
import type { Stores } from '../storage/adapter_router.ts';
import { grantsOf } from '../storage/grants.ts';
import { revokeGrant } from '../storage/grant_revocation.ts';
import { ClientStore } from '../storage/clients.ts';
import type { Account } from '../storage/accounts.ts';
import { accountNamed } from './account_commands.ts';
import { auditOperator } from './operator.ts';
import type { CommandResult } from './output.ts';

export const GRANT_FLAG_OPTIONS = {
  user: { type: 'string' },
  client: { type: 'string' },
} as const;

export interface GrantFlags {
  user?: string | undefined;
  client?: string | undefined;
}

/**
 * `grants list`: what a person has allowed each client, and until when; by client name. Which
 * applications a person uses is theirs: a help-desk look at it is recorded (`grants.listed`),
 * and what cannot be recorded is not shown.
 */
export async function listGrants(db: Knex, flags: GrantFlags & { user: string }): Promise<CommandResult> {
  const account = await accountNamed(db, flags.user);
  const clients = new ClientStore(db);
  const found = await db.transaction(async (trx) => {
    const grants = await grantsOf(trx, account.id, flags.client);
    await auditOperator(trx, { event: 'grants.listed', accountId: account.id, username: account.username, clientId: flags.client, detail: { grants: grants.length } });
    return grants;
  });
  const grants = await Promise.all(found.map(async (grant) => ({
    client_id: grant.clientId,
    client_name: (await clients.find(grant.clientId))?.client_name ?? null,
    scopes: grant.scopes,
    created_at: grant.createdAt.toISOString(),
    expires_at: grant.expiresAt?.toISOString() ?? null,
  })));
  grants.sort((a, b) => (a.client_name ?? '').localeCompare(b.client_name ?? '') || a.created_at.localeCompare(b.created_at));
  const lines = grants.map((g) => `${g.client_id}  ${g.client_name ?? '(deleted client)'}  ${g.scopes.join(' ')}  ${g.created_at}  until ${g.expires_at ?? 'revoked'}`);
  return { json: grants, text: lines.length ? lines.join('\n') : `${account.username} has allowed no client` };
}

/** `grants revoke`: the grants go, and with them every access token, refresh token and code they issued. */
export async function revokeGrants(stores: Stores, flags: GrantFlags & { user: string }): Promise<CommandResult> {
  const account = await accountNamed(stores.db, flags.user);
  const revoked = await revokeGrantsOf(stores, account, flags.client);
  const which = flags.client ? ` for ${flags.client}` : '';
  return { json: { username: account.username, client_id: flags.client ?? null, revoked }, text: `revoked ${revoked} grant(s) of ${account.username}${which}` };
}

/**
 * Revokes an account's grants (one client's, if given); returns how many. Tokens kept in Redis
 * cannot share a transaction with Postgres, so the order makes a run cut short safe to repeat:
 * the audit record (how many, of which clients) commits first, so no revocation is ever
 * unrecorded; then each grant's tokens and codes go, then the grant itself (revokeGrant). A grant
 * not reached is still listed (`grants list`), and running the command again revokes and records it.
 */
export async function revokeGrantsOf(stores: Stores, account: Pick<Account, 'id' | 'username'>, clientId?: string): Promise<number> {
  const grants = await stores.db.transaction(async (trx) => {
    const found = await grantsOf(trx, account.id, clientId);
    if (found.length) {
      await auditOperator(trx, {
        event: 'grants.revoked',
        accountId: account.id,
        username: account.username,
        clientId,
        detail: { grants: found.length, clients: [...new Set(found.map((grant) => grant.clientId))].sort() },
      });
    }
    return found;
  });
  for (const grant of grants) await revokeGrant(stores, grant.grantId);
  return grants.length;
}
