import type { Knex } from 'knex';
import { usernameKey } from '../identity/usernames.ts';

const TABLE = 'group_members';

/**
 * Group membership kept in the database (GROUPS=db), managed with `gatehouse groups`. Members are
 * kept by their username's key, so `ALICE` added to a group is alice's membership.
 */
export class GroupMembers {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

  async groupsOf(username: string): Promise<string[]> {
    const rows: { group_name: string }[] = await this.#db(TABLE).select('group_name').where({ username: usernameKey(username) }).orderBy('group_name');
    return rows.map((row) => row.group_name);
  }

  /** True when the member was added (false: already a member). */
  async add(groupName: string, username: string): Promise<boolean> {
    const rows = await this.#db(TABLE).insert({ group_name: groupName, username: usernameKey(username) }).onConflict(['group_name', 'username']).ignore().returning('username');
    return rows.length > 0;
  }

  /** True when the member was removed (false: was not a member). */
  async remove(groupName: string, username: string): Promise<boolean> {
    return (await this.#db(TABLE).where({ group_name: groupName, username: usernameKey(username) }).delete()) > 0;
  }

  async list(): Promise<{ group: string; members: string[] }[]> {
    const rows: { group_name: string; members: string[] }[] = await this.#db(TABLE)
      .select('group_name', this.#db.raw('array_agg(username ORDER BY username) AS members'))
      .groupBy('group_name').orderBy('group_name');
    return rows.map((row) => ({ group: row.group_name, members: row.members }));
  }
}
