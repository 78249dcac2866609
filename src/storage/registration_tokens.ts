import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { RegistrationAllowance } from '../policy/registration_allowance.ts';
import { storedId } from './digested_ids.ts';

/**
 * Initial access tokens (RFC 7591 §3) and registration access tokens (RFC 7592): 256 random
 * bits each, shown once, stored only as their SHA-256 digest (as oidc-provider's tokens are,
 * digested_ids.ts), so a dump of the database registers and manages nothing.
 */
export function newBearerToken(): { value: string; digest: string } {
  const value = randomBytes(32).toString('base64url');
  return { value, digest: storedId(value) };
}

export interface RegistrationToken {
  /** Public: names the token in the audit log and in `client_registrations`; opens nothing. */
  id: string;
  allowance: RegistrationAllowance;
}

interface TokenRow {
  id: string;
  kinds: RegistrationAllowance['kinds'];
  scopes: string[];
  restricted: boolean;
  consent_skip: boolean;
  organizations: RegistrationAllowance['organizations'];
}

function tokenOf(row: TokenRow): RegistrationToken {
  return {
    id: row.id,
    allowance: { kinds: row.kinds, scopes: row.scopes, restricted: row.restricted, consentSkip: row.consent_skip, organizations: row.organizations },
  };
}

export async function insertRegistrationToken(
  trx: Knex.Transaction,
  token: { id: string; digest: string; allowance: RegistrationAllowance; uses: number; expiresAt: Date; createdBy: string },
): Promise<void> {
  const { allowance } = token;
  await trx('registration_tokens').insert({
    id: token.id,
    digest: token.digest,
    kinds: JSON.stringify(allowance.kinds),
    scopes: JSON.stringify(allowance.scopes),
    restricted: allowance.restricted,
    consent_skip: allowance.consentSkip,
    organizations: JSON.stringify(allowance.organizations),
    uses_left: token.uses,
    expires_at: token.expiresAt,
    created_by: token.createdBy,
  });
}

/**
 * Takes one use of an initial access token, or undefined if the value is unknown, expired or used
 * up. The row stays locked until the caller's transaction ends: a registration refused later in
 * it gives the use back by rolling back, and concurrent registrations cannot overdraw it.
 */
export async function useRegistrationToken(trx: Knex.Transaction, value: string): Promise<RegistrationToken | undefined> {
  const [row] = await trx('registration_tokens')
    .where({ digest: storedId(value) })
    .andWhere('expires_at', '>', trx.fn.now())
    .andWhere('uses_left', '>', 0)
    .decrement('uses_left', 1)
    .returning(['id', 'kinds', 'scopes', 'restricted', 'consent_skip', 'organizations']) as TokenRow[];
  return row ? tokenOf(row) : undefined;
}

/**
 * Spends every use an initial access token has left; the row stays, since the clients it
 * registered are still held to its allowance. How many uses it had, or undefined for no such id.
 */
export async function revokeRegistrationToken(trx: Knex.Transaction, id: string): Promise<number | undefined> {
  const [row] = await trx('registration_tokens').where({ id }).forUpdate().select('uses_left') as { uses_left: number }[];
  if (!row) return undefined;
  await trx('registration_tokens').where({ id }).update({ uses_left: 0 });
  return row.uses_left;
}

/** Stores (or replaces) a client's registration access token and links the client to its initial access token. */
export async function saveClientRegistration(trx: Knex.Transaction, clientId: string, tokenId: string, digest: string, expiresAt: Date): Promise<void> {
  await trx('client_registrations')
    .insert({ client_id: clientId, registration_token_id: tokenId, access_digest: digest, access_expires_at: expiresAt })
    .onConflict('client_id').merge(['access_digest', 'access_expires_at']);
}

/**
 * The initial access token a client was registered with, if `value` is the client's live
 * registration access token; undefined for anything else (another client's token included). The
 * row is locked for the caller's transaction, so an update and a delete never interleave.
 */
export async function registrationFor(trx: Knex.Transaction, clientId: string, value: string): Promise<RegistrationToken | undefined> {
  // From the request's path (/reg/%00): Postgres refuses a NUL in a text parameter, and no client has one.
  if (clientId.includes('\u0000')) return undefined;
  const row = await trx('client_registrations as r')
    .join('registration_tokens as t', 't.id', 'r.registration_token_id')
    .where({ 'r.client_id': clientId, 'r.access_digest': storedId(value) })
    .andWhere('r.access_expires_at', '>', trx.fn.now())
    .forUpdate('r')
    .first('t.id', 't.kinds', 't.scopes', 't.restricted', 't.consent_skip', 't.organizations') as TokenRow | undefined;
  return row ? tokenOf(row) : undefined;
}

/** Ends a client's self-management: its registration access token stops working. True if it had one. */
export async function deleteClientRegistration(trx: Knex.Transaction, clientId: string): Promise<boolean> {
  return (await trx('client_registrations').where({ client_id: clientId }).delete()) > 0;
}
