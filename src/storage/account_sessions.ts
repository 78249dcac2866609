import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
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
  await stores.db('oidc_models').where({ model: SESSION_RECORD }).whereRaw("payload->>'accountId' = ?", [accountId]).delete();
  const inSql = await stores.db('oidc_models').where({ model: 'Session' }).whereRaw("payload->>'accountId' = ?", [accountId]).delete();
  if (!stores.redis) return inSql;
  const redis = stores.redis;
  const space = `${stores.redisPrefix ?? 'gatehouse:'}Session:`;
  let ended = 0;
  for await (const keys of scanKeys(redis, `${globEscaped(space)}*`, SCAN_COUNT)) {
    const sessionKeys = keys.filter((key) => !/^(uid|grant_expiry|user_code):/.test(key.slice(space.length)));
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

/**
 * What the account page shows of a session, beside the session itself: oidc-provider's Session
 * holds no browser or address, and in Redis it cannot be found by account without a SCAN. Kept
 * in Postgres whichever store holds the sessions, in the oidc_models table (the janitor removes
 * it when the session would have expired), keyed by a digest of the session's uid so that the id
 * a page's form carries leads to nothing else.
 */
export interface SessionRecord {
  /** The record's id: what the account page's "Sign out" form names. */
  id: string;
  sessionUid: string;
  accountId: string;
  userAgent: string;
  ip: string;
  signedInAt: Date;
  lastActiveAt: Date;
}

const SESSION_RECORD = 'AccountSession';

// A browser's User-Agent is a line of a hundred or so characters; a longer one is cut, not stored whole.
const MAX_USER_AGENT = 512;

interface SessionRecordPayload {
  sessionUid: string;
  accountId: string;
  userAgent: string;
  ip: string;
  signedInAt: string;
}

export function sessionRecordId(sessionUid: string): string {
  return createHash('sha256').update(`account-session:${sessionUid}`).digest('base64url');
}

/** Notes that a person's session was used now, from this browser and address, until `expiresAt`. */
export async function recordSessionActivity(
  db: Knex,
  activity: { sessionUid: string; accountId: string; userAgent: string; ip: string; expiresAt: Date },
): Promise<void> {
  const payload: SessionRecordPayload = {
    sessionUid: activity.sessionUid,
    accountId: activity.accountId,
    userAgent: activity.userAgent.slice(0, MAX_USER_AGENT),
    ip: activity.ip,
    signedInAt: new Date().toISOString(),
  };
  // A new sign-in in the same browser keeps its session uid: the first sign-in time is kept.
  await db('oidc_models')
    .insert({ model: SESSION_RECORD, id: sessionRecordId(activity.sessionUid), payload: JSON.stringify(payload), expires_at: activity.expiresAt, updated_at: db.fn.now() })
    .onConflict(['model', 'id'])
    .merge({
      payload: db.raw("jsonb_set(excluded.payload, '{signedInAt}', coalesce(oidc_models.payload->'signedInAt', excluded.payload->'signedInAt'))"),
      expires_at: db.raw('excluded.expires_at'),
      updated_at: db.raw('excluded.updated_at'),
    });
}

/** The records of an account's sessions that have not expired, most recently active first. */
export async function sessionRecordsOf(db: Knex, accountId: string): Promise<SessionRecord[]> {
  const rows: { id: string; payload: SessionRecordPayload | string; updated_at: Date }[] = await db('oidc_models')
    .select('id', 'payload', 'updated_at')
    .where({ model: SESSION_RECORD })
    .whereRaw("payload->>'accountId' = ?", [accountId])
    .andWhere('expires_at', '>', new Date())
    .orderBy('updated_at', 'desc');
  return rows.map((row) => {
    const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as SessionRecordPayload;
    return { id: row.id, ...payload, signedInAt: new Date(payload.signedInAt), lastActiveAt: new Date(row.updated_at) };
  });
}

/** Forgets session records (their sessions ended); only the account's own. */
export async function forgetSessionRecords(db: Knex, accountId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db('oidc_models').where({ model: SESSION_RECORD }).whereIn('id', ids).whereRaw("payload->>'accountId' = ?", [accountId]).delete();
}
