import type { Knex } from 'knex';
import { usernameKey } from '../src/identity/usernames.ts';

// Rows per UPDATE while filling the keys: a few thousand bound values, well under Postgres's limit.
const BATCH = 1000;
// Appended to a membership that is another person's but spelled as the key (spaces and brackets are in no username).
const SET_ASIDE = ' [duplicate account]';

/**
 * One account per identity: `username_key` is the username NFKC-normalised, case-folded and
 * trimmed, unique, and what sign-in and CAS look accounts up by (`alice` and `Alice` are one).
 * Accounts that already collide keep their rows: the oldest one of each group gets the key and
 * stays reachable; the others get none, so nobody signs in to them until an operator renames them
 * (their subjects, grants and tokens are left as they are). `username` keeps the spelling shown.
 * Group members (GROUPS=db) are kept by the key too: `Alice` and `alice` in one group become one.
 * Where accounts collide, only memberships spelled as the account that keeps the key are its: the
 * others were another person's, so they stay as written and, like that person's account, match
 * nobody; except those spelled as the key itself (`alice` when `Alice` keeps it), which as
 * written would be the key's account's: they are set aside as `alice [duplicate account]`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.text('username_key');
  });
  const rows: { id: string; username: string }[] = await knex('accounts').select('id', 'username').orderBy([{ column: 'created_at' }, { column: 'id' }]);
  const owners = new Map<string, { id: string; username: string; collides: boolean }>();
  for (const row of rows) {
    const key = usernameKey(row.username);
    const owner = owners.get(key);
    if (owner) owner.collides = true;
    else owners.set(key, { id: row.id, username: row.username, collides: false });
  }
  for (const batch of batches([...owners].map(([key, owner]) => [key, owner.id]))) {
    await knex.raw(
      `UPDATE accounts SET username_key = v.key FROM (VALUES ${batch.map(() => '(?, ?)').join(', ')}) AS v(key, id) WHERE accounts.id = v.id`,
      batch.flat(),
    );
  }
  await knex.schema.alterTable('accounts', (t) => {
    t.unique(['username_key'], { indexName: 'accounts_username_key_unique' });
  });
  const members: { group_name: string; username: string; added_at: Date }[] = await knex('group_members').select('group_name', 'username', 'added_at');
  // Spelled otherwise than the account that keeps a colliding key: another person's.
  const belongsToAnother = (member: { username: string }) => {
    const owner = owners.get(usernameKey(member.username));
    return owner !== undefined && owner.collides && owner.username !== member.username;
  };
  const isKey = (member: { username: string }) => usernameKey(member.username) === member.username;
  const pairs = (batch: { group_name: string; username: string }[]) => batch.map((member) => [member.group_name, member.username]);
  // First, so that the key's account's own memberships, rekeyed next, are not taken for them.
  // Kept under a name no username can have, so that an operator can still see and move them.
  for (const batch of batches(members.filter((member) => belongsToAnother(member) && isKey(member)))) {
    await knex('group_members').whereIn(['group_name', 'username'], pairs(batch)).update({ username: knex.raw("username || ?", [SET_ASIDE]) });
  }
  for (const batch of batches(members.filter((member) => !belongsToAnother(member) && !isKey(member)))) {
    await knex('group_members').whereIn(['group_name', 'username'], pairs(batch)).delete();
    await knex('group_members')
      .insert(batch.map((member) => ({ ...member, username: usernameKey(member.username) })))
      .onConflict(['group_name', 'username']).ignore();
  }
}

function batches<T>(items: T[]): T[][] {
  return Array.from({ length: Math.ceil(items.length / BATCH) }, (_, i) => items.slice(i * BATCH, (i + 1) * BATCH));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('username_key');
  });
}
