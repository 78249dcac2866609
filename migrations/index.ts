import type { Knex } from 'knex';
import * as foundation from './20261127000000_foundation.ts';
import * as accounts from './20261127010000_accounts.ts';
import * as enterpriseScopes from './20261127020000_enterprise_scopes.ts';
import * as usernameKeys from './20261130000000_username_keys.ts';
import * as tokenDigests from './20261130010000_token_digests.ts';
import * as accountDisabled from './20261130020000_account_disabled.ts';
import * as rateLimitsExpireIndex from './20261130061500_rate_limits_expire_index.ts';
import * as keyActivation from './20261130064000_key_activation.ts';
import * as auditEvents from './20261130080000_audit_events.ts';
import * as registrationTokens from './20261130090000_registration_tokens.ts';
import * as sessionOwnerIndex from './20261130100000_session_owner_index.ts';

/**
 * The migrations in order. Imported statically so they load the same way under node, the CLI
 * and jest; a landed migration is never edited, a change is a new file added here.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261127000000_foundation': foundation,
  '20261127010000_accounts': accounts,
  '20261127020000_enterprise_scopes': enterpriseScopes,
  '20261130000000_username_keys': usernameKeys,
  '20261130010000_token_digests': tokenDigests,
  '20261130020000_account_disabled': accountDisabled,
  '20261130061500_rate_limits_expire_index': rateLimitsExpireIndex,
  '20261130064000_key_activation': keyActivation,
  '20261130080000_audit_events': auditEvents,
  '20261130090000_registration_tokens': registrationTokens,
  '20261130100000_session_owner_index': sessionOwnerIndex,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
