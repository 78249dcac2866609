import type { Knex } from 'knex';
import { GroupMembers } from '../storage/group_members.ts';

/** Where group membership comes from (GROUPS=db today; Grouper plugs in behind the same shape). */
export interface GroupSource {
  groupsOf(username: string): Promise<string[]>;
}

export function dbGroupSource(db: Knex): GroupSource {
  const members = new GroupMembers(db);
  return { groupsOf: (username) => members.groupsOf(username) };
}
