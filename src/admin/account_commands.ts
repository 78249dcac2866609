import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';
import { AccountExists, AccountStore, type Account } from '../storage/accounts.ts';
import { GroupMembers } from '../storage/group_members.ts';
import { hashPassword } from '../identity/passwords.ts';
import { displayUsername } from '../identity/usernames.ts';
import { UsageError, type CommandResult } from './output.ts';
import { auditOperator } from './operator.ts';
import type { Config } from '../config.ts';

type IdentityKind = Config['identity']['kind'];

export const ACCOUNT_FLAG_OPTIONS = {
  username: { type: 'string' },
  password: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  email: { type: 'string' },
  name: { type: 'string' },
  'given-name': { type: 'string' },
  'family-name': { type: 'string' },
} as const;

export interface AccountFlags {
  username?: string | undefined;
  password?: string | undefined;
  'password-stdin'?: boolean | undefined;
  email?: string | undefined;
  name?: string | undefined;
  'given-name'?: string | undefined;
  'family-name'?: string | undefined;
}

// NIST SP 800-63B: at least 8 characters, no composition rules.
const MIN_PASSWORD_LENGTH = 8;

/** Validates at once; the returned function hashes the password (argon2id) and stores the account. */
export function createAccount(flags: AccountFlags): (db: Knex) => Promise<CommandResult> {
  // Checked as it will be stored: `ａｌｉｃｅ` (fullwidth) is alice.
  const username = displayUsername(flags.username ?? '');
  if (!username) throw new UsageError('accounts create needs --username');
  if (!/^[\w.@+-]{1,64}$/.test(username)) throw new UsageError(`--username may use letters, digits and . _ @ + - (at most 64); got ${JSON.stringify(username)}`);
  const password = chosenPassword(flags, 'accounts create needs --password or --password-stdin');
  if (flags.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(flags.email)) throw new UsageError(`--email is not an address: ${flags.email}`);
  return async (db) => {
    // Hashed before the transaction opens: argon2 takes its time, and a transaction holds a connection.
    const passwordHash = await hashPassword(password);
    try {
      return await db.transaction(async (trx) => {
        const account = await new AccountStore(trx).createLocal(username, passwordHash, {
          email: flags.email,
          // An operator registering the address vouches for it.
          emailVerified: flags.email !== undefined,
          name: flags.name,
          givenName: flags['given-name'],
          familyName: flags['family-name'],
        });
        await auditOperator(trx, { event: 'account.created', accountId: account.id, username: account.username });
        const view = { sub: account.id, username: account.username, email: account.email, name: account.name };
        return { json: view, text: `created account ${account.username} (sub ${account.id})` };
      });
    } catch (error) {
      if (error instanceof AccountExists) throw new UsageError(error.message);
      throw error;
    }
  };
}

/** The password given by --password or --password-stdin, checked; `missing` is the error when neither is. */
export function chosenPassword(flags: Pick<AccountFlags, 'password' | 'password-stdin'>, missing: string): string {
  if (flags.password !== undefined && flags['password-stdin']) throw new UsageError('give --password or --password-stdin, not both');
  const password = flags['password-stdin'] ? passwordFromStdin() : flags.password;
  if (!password) throw new UsageError(missing);
  if (password.length < MIN_PASSWORD_LENGTH) throw new UsageError(`--password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  return password;
}

/**
 * The password from standard input (`--password-stdin`), so it appears neither in the process
 * list nor in shell history. One trailing newline, as echo or a file leaves it, is not part of it.
 */
function passwordFromStdin(): string {
  return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
}

/** The account a username names (however cased or encoded), or a usage error naming it. */
export async function accountNamed(db: Knex, username: string): Promise<Account> {
  const account = await new AccountStore(db).findByUsername(username);
  if (!account) throw new UsageError(`no account named ${username}`);
  return account;
}

/**
 * Adds a member by username. With local accounts a name that is no account could never sign in
 * (a typo, most likely): refused. With CAS an account appears at the person's first sign-in, so a
 * name not seen yet is accepted.
 */
export function addGroupMember(group: string, username: string, identity: IdentityKind = 'local'): (db: Knex) => Promise<CommandResult> {
  const member = groupMember(group, username);
  return (db) => db.transaction(async (trx) => {
    const account = await new AccountStore(trx).findByUsername(member.username);
    if (identity === 'local' && !account) {
      throw new UsageError(`no account named ${member.username}: create it first (gatehouse accounts create)`);
    }
    const added = await new GroupMembers(trx).add(member.group, member.username);
    if (added) await auditOperator(trx, { event: 'group.member_added', accountId: account?.id, username: account?.username ?? member.username, detail: { group: member.group } });
    return { json: { ...member, added }, text: added ? `added ${member.username} to ${member.group}` : `${member.username} is already in ${member.group}` };
  });
}

export function removeGroupMember(group: string, username: string): (db: Knex) => Promise<CommandResult> {
  const member = groupMember(group, username);
  return (db) => db.transaction(async (trx) => {
    const removed = await new GroupMembers(trx).remove(member.group, member.username);
    if (!removed) throw new UsageError(`${member.username} is not in ${member.group}`);
    const account = await new AccountStore(trx).findByUsername(member.username);
    await auditOperator(trx, { event: 'group.member_removed', accountId: account?.id, username: account?.username ?? member.username, detail: { group: member.group } });
    return { json: { ...member, removed }, text: `removed ${member.username} from ${member.group}` };
  });
}

/** GROUP and USERNAME as given, trimmed as `scopes define --group` is; neither may be empty. */
function groupMember(group: string, username: string): { group: string; username: string } {
  const member = { group: group.trim(), username: username.trim() };
  if (!member.group) throw new UsageError('GROUP must not be empty (e.g. gatehouse groups add-member library-staff alice)');
  if (!member.username) throw new UsageError('USERNAME must not be empty (e.g. gatehouse groups add-member library-staff alice)');
  return member;
}

export async function listGroups(db: Knex): Promise<CommandResult> {
  const groups = await new GroupMembers(db).list();
  return { json: groups, text: groups.length ? groups.map((g) => `${g.group}: ${g.members.join(', ')}`).join('\n') : 'no groups' };
}
