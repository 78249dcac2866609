import type { Knex } from 'knex';
import { AccountStore } from '../storage/accounts.ts';
import type { Stores } from '../storage/adapter_router.ts';
import { endSessionsOf } from '../storage/account_sessions.ts';
import { hashPassword } from '../identity/passwords.ts';
import { accountNamed, chosenPassword } from './account_commands.ts';
import { revokeGrantsOf } from './grant_commands.ts';
import { auditOperator } from './operator.ts';
import { UsageError, type CommandResult } from './output.ts';

/**
 * `accounts disable`: the account is marked first, and the mark and its audit record commit
 * together, so from that moment sign-in is refused and findAccount finds no one (refresh,
 * userinfo), even if Redis cannot be reached; only then is Redis opened, its grants revoked
 * (every opaque access token and refresh token with them, see revokeGrantsOf) and its sessions
 * ended. Running it again finishes a run cut short; an account already disabled is not recorded
 * as disabled again.
 */
export async function disableAccount(db: Knex, storesOf: () => Promise<Stores>, username: string): Promise<CommandResult> {
  const account = await accountNamed(db, username);
  await db.transaction(async (trx) => {
    if (await new AccountStore(trx).setDisabled(account.id, true)) {
      await auditOperator(trx, { event: 'account.disabled', accountId: account.id, username: account.username });
    }
  });
  let grantsRevoked: number;
  let sessionsEnded: number;
  try {
    const stores = await storesOf();
    grantsRevoked = await revokeGrantsOf(stores, account);
    sessionsEnded = await endSessionsOf(stores, account.id);
  } catch (error) {
    throw new Error(`${account.username} is disabled and cannot sign in, but revoking its grants and ending its sessions failed (${(error as Error).message}): run the command again to finish`);
  }
  return {
    json: { sub: account.id, username: account.username, disabled: true, grants_revoked: grantsRevoked, sessions_ended: sessionsEnded },
    text: `disabled ${account.username}: ${grantsRevoked} grant(s) revoked, ${sessionsEnded} session(s) ended`,
  };
}

/** `accounts enable`: the person may sign in again; what disabling revoked stays revoked. */
export function enableAccount(stores: Stores, username: string): Promise<CommandResult> {
  return stores.db.transaction(async (trx) => {
    const account = await accountNamed(trx, username);
    const enabled = await new AccountStore(trx).setDisabled(account.id, false);
    if (enabled) await auditOperator(trx, { event: 'account.enabled', accountId: account.id, username: account.username });
    return { json: { sub: account.id, username: account.username, disabled: false }, text: enabled ? `enabled ${account.username}` : `${account.username} was not disabled` };
  });
}

/** Validates at once (the password is read from standard input); the returned function stores its argon2id hash. */
export function setPassword(username: string, flags: { 'password-stdin'?: boolean | undefined }): (stores: Stores) => Promise<CommandResult> {
  const password = chosenPassword(flags, 'accounts set-password needs --password-stdin');
  return async (stores) => {
    const passwordHash = await hashPassword(password);
    return stores.db.transaction(async (trx) => {
      const account = await accountNamed(trx, username);
      if (account.source !== 'local') throw new UsageError(`${account.username} signs in with CAS: Gatehouse keeps no password for it`);
      await new AccountStore(trx).setPasswordHash(account.id, passwordHash);
      await auditOperator(trx, { event: 'account.password_changed', accountId: account.id, username: account.username });
      return { json: { sub: account.id, username: account.username, password_changed: true }, text: `password of ${account.username} changed` };
    });
  };
}
