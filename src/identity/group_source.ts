import type { Knex } from 'knex';
import type { Config } from '../config.ts';
import { GroupMembers } from '../storage/group_members.ts';
import { grouperGroupSource } from './grouper_client.ts';
import { TtlCache } from '../ttl_cache.ts';

/** Where group membership comes from: the database (GROUPS=db) or Grouper (GROUPS=grouper). */
export interface GroupSource {
  groupsOf(username: string): Promise<string[]>;
}

export function dbGroupSource(db: Knex): GroupSource {
  const members = new GroupMembers(db);
  return { groupsOf: (username) => members.groupsOf(username) };
}

/** The configured source behind a cache of GROUP_CACHE_SECONDS: membership is live to within that. */
export function groupSource(config: Config, db: Knex): GroupSource {
  const source = config.groups.kind === 'grouper' ? grouperGroupSource(config.groups.grouperUrl) : dbGroupSource(db);
  const cache = new TtlCache<string[]>('groups', config.groupCacheSeconds);
  return { groupsOf: (username) => cache.get(username, () => source.groupsOf(username)) };
}
