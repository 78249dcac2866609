import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Stores } from '../storage/adapter_router.ts';
import type { AuditWriter } from '../storage/audit_log.ts';
import { grantsOf } from '../storage/grants.ts';
import { revokeGrant } from '../storage/grant_revocation.ts';
import { notifyBackchannel } from '../provider/end_session.ts';
import { liveSessionsOf } from './live_sessions.ts';

export interface Person {
  id: string;
  username: string;
}

/**
 * "Remove access": revokes every grant the person gave the client, as `gatehouse grants revoke`
 * does (src/storage/grant_revocation.ts: its access tokens, refresh tokens and codes go from
 * Postgres and Redis, then the grant), so the client's next sign-in asks for consent again. The
 * grants are looked up by the signed-in person and the client together: a client id is all a
 * form can name, and it finds only this person's grants. Then the client, if it registered a
 * back-channel logout URI, is told: once for each of the person's sessions it signed in through
 * (with that session's sid), or once for the person alone when none is left. Returns how many
 * grants went (0: the client had none of this person's).
 */
export async function removeAccess(
  deps: { provider: Provider; stores: Stores; audit: AuditWriter },
  ctx: Context,
  person: Person,
  clientId: string,
): Promise<number> {
  const grants = await grantsOf(deps.stores.db, person.id, clientId);
  if (grants.length === 0) return 0;
  // Recorded before the revocation: a removal cut short is still on record, and is finished by trying again.
  deps.audit.record({
    event: 'consent.revoked', actor: `account:${person.id}`, accountId: person.id, username: person.username, clientId, ip: ctx.ip,
    detail: { reason: 'account_page', grants: grants.length, scopes: [...new Set(grants.flatMap((grant) => grant.scopes))] },
  });
  for (const grant of grants) await revokeGrant(deps.stores, grant.grantId);
  const sids = (await liveSessionsOf(deps.provider, deps.stores.db, person.id))
    .map(({ session }) => session.authorizations?.[clientId]?.sid)
    .filter((sid): sid is string => typeof sid === 'string');
  await Promise.all((sids.length ? sids : [undefined]).map((sid) => notifyBackchannel(deps.provider, ctx, clientId, person.id, sid)));
  return grants.length;
}
