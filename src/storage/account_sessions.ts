import type { Stores } from './adapter_router.ts';
import { scanKeys } from './redis.ts';

// SCAN's page size: large enough to walk a big key space in few round trips, small enough that
// each step is a short pause for the Redis that serves live traffic.
const SCAN_COUNT = 1000;

/**
 * Ends every session of an account, in whichever backend holds them; returns how many. Sessions
 * are not indexed by account (a sign-in writes its session at every request, and this runs only
 * when someone is offboarded), so Redis is walked with SCAN (every master of a Cluster): the keys
 * are RedisAdapter's, `<prefix>Session:<stored id>` for the session (a hash) and
 * `<prefix>Session:uid:<uid>` for its index, deleted one by one (a Cluster may hold them apart).
 */
export async function endSessionsOf(stores: Stores, accountId: string): Promise<number> {
  const inSql = await stores.db('oidc_models').where({ model: 'Session' }).whereRaw("payload->>'accountId' = ?", [accountId]).delete();
  if (!stores.redis) return inSql;
  const redis = stores.redis;
  const space = `${stores.redisPrefix ?? 'gatehouse:'}Session:`;
  let ended = 0;
  for await (const keys of scanKeys(redis, `${globEscaped(space)}*`, SCAN_COUNT)) {
    const sessionKeys = keys.filter((key) => !/^(uid|grant|user_code):/.test(key.slice(space.length)));
    const payloads = await Promise.all(sessionKeys.map((key) => redis.hget(key, 'payload')));
    for (const [index, raw] of payloads.entries()) {
      const payload = raw ? (JSON.parse(raw) as { accountId?: string; uid?: string }) : undefined;
      if (payload?.accountId !== accountId) continue;
      await Promise.all([sessionKeys[index]!, ...(payload.uid ? [`${space}uid:${payload.uid}`] : [])].map((key) => redis.del(key)));
      ended += 1;
    }
  }
  return inSql + ended;
}

function globEscaped(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
