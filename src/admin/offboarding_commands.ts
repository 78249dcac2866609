import { AccountStore } from '../storage/accounts.ts';
import type { Stores } from '../storage/adapter_router.ts';
import { endSessionsOf } from '../storage/account_sessions.ts';
import { hashPassword } from '../identity/passwords.ts';
import { accountNamed, chosenPassword } from './account_commands.ts';
import { revokeGrantsOf } from './grant_commands.ts';
import { UsageError, type CommandResult } from './output.ts';

/**
 * `accounts disable`: the account is marked first, so from that moment sign-in is refused and
 * findAccount finds no one (refresh, userinfo); then its grants go (every opaque access token
 * and refresh token with them) and its sessions end. Running it again finishes a run cut short.
 */
export async function disableAccount(stores: Stores, username: string): Promise<CommandResult> {
  const account = await accountNamed(stores.db, username);
  await new AccountStore(stores.db).setDisabled(account.id, true);
  const grantsRevoked = await revokeGrantsOf(stores, account.id);
  const sessionsEnded = await endSessionsOf(stores, account.id);
  return {
    json: { sub: account.id, username: account.username, disabled: true, grants_revoked: grantsRevoked, sessions_ended: sessionsEnded },
    text: `disabled ${account.username}: ${grantsRevoked} grant(s) revoked, ${sessionsEnded} session(s) ended`,
  };
}

/** `accounts enable`: the person may sign in again; what disabling revoked stays revoked. */
export async function enableAccount(stores: Stores, username: string): Promise<CommandResult> {
  const account = await accountNamed(stores.db, username);
  await new AccountStore(stores.db).setDisabled(account.id, false);
  return { json: { sub: account.id, username: account.username, disabled: false }, text: `enabled ${account.username}` };
}

/** Validates at once (the password is read from standard input); the returned function stores its argon2id hash. */
export function setPassword(username: string, flags: { 'password-stdin'?: boolean | undefined }): (stores: Stores) => Promise<CommandResult> {
  const password = chosenPassword(flags, 'accounts set-password needs --password-stdin');
  return async (stores) => {
    const account = await accountNamed(stores.db, username);
    if (account.source !== 'local') throw new UsageError(`${account.username} signs in with CAS: Gatehouse keeps no password for it`);
    await new AccountStore(stores.db).setPasswordHash(account.id, await hashPassword(password));
    return { json: { sub: account.id, username: account.username, password_changed: true }, text: `password of ${account.username} changed` };
  };
}
