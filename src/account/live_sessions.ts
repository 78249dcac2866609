import type { Provider } from 'oidc-provider';
import type { Knex } from 'knex';
import type { Session } from '../provider/end_session.ts';
import { forgetSessionRecords, sessionRecordsOf, type SessionRecord } from '../storage/account_sessions.ts';

export interface LiveSession {
  record: SessionRecord;
  session: Session;
}

/**
 * The person's sessions that still exist (in Redis or SQL, wherever oidc-provider keeps them)
 * and still belong to them, with what the account page shows of each. Records of sessions that
 * ended some other way (signed out at an application, expired, another person signed in in that
 * browser) are forgotten on the way.
 */
export async function liveSessionsOf(provider: Provider, db: Knex, accountId: string): Promise<LiveSession[]> {
  const records = await sessionRecordsOf(db, accountId);
  const found = await Promise.all(records.map(async (record) => ({ record, session: await provider.Session.findByUid(record.sessionUid) })));
  const live = found.filter((entry): entry is LiveSession => entry.session?.accountId === accountId);
  const ended = found.filter((entry) => entry.session?.accountId !== accountId).map((entry) => entry.record.id);
  await forgetSessionRecords(db, accountId, ended);
  return live;
}
