import type { Knex } from 'knex';
import { usernameKey } from '../src/identity/usernames.ts';

// Rows per UPDATE while filling the keys: a few thousand bound values, well under Postgres's limit.
const BATCH = 1000;

/**
 * One account per identity: `username_key` is the username NFKC-normalised, case-folded and
 * trimmed, unique, and what sign-in and CAS look accounts up by (`alice` and `Alice` are one).
 * Accounts that already collide keep their rows: the oldest one of each group gets the key and
 * stays reachable; the others get none, so nobody signs in to them until an operator renames them
 * (their subjects, grants and tokens are left as they are). `username` keeps the spelling shown.
 * Group members (GROUPS=db) are kept by the key too: `Alice` and `alice` in one group become one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.text('username_key');
  });
  const rows: { id: string; username: string }[] = await knex('accounts').select('id', 'username').orderBy([{ column: 'created_at' }, { column: 'id' }]);
  const owners = new Map<string, string>();
  for (const row of rows) {
    const key = usernameKey(row.username);
    if (!owners.has(key)) owners.set(key, row.id);
  }
  const keyed = [...owners];
  for (let start = 0; start < keyed.length; start += BATCH) {
    const batch = keyed.slice(start, start + BATCH);
    await knex.raw(
      `UPDATE accounts SET username_key = v.key FROM (VALUES ${batch.map(() => '(?, ?)').join(', ')}) AS v(key, id) WHERE accounts.id = v.id`,
      batch.flat(),
    );
  }
  await knex.schema.alterTable('accounts', (t) => {
    t.unique(['username_key'], { indexName: 'accounts_username_key_unique' });
  });
  const members: { group_name: string; username: string; added_at: Date }[] = await knex('group_members').select('group_name', 'username', 'added_at');
  const rekeyed = members.filter((member) => usernameKey(member.username) !== member.username);
  for (let start = 0; start < rekeyed.length; start += BATCH) {
    const batch = rekeyed.slice(start, start + BATCH);
    await knex('group_members').whereIn(['group_name', 'username'], batch.map((member) => [member.group_name, member.username])).delete();
    await knex('group_members')
      .insert(batch.map((member) => ({ ...member, username: usernameKey(member.username) })))
      .onConflict(['group_name', 'username']).ignore();
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('username_key');
  });
}
