import type { Context, Middleware } from 'koa';
import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import type { Logger } from '../log.ts';
import type { CasSessions } from '../storage/cas_sessions.ts';
import { logoutRequestTicket } from '../identity/cas_client.ts';
import { endSession } from '../provider/end_session.ts';
import { TTL } from '../provider/ttl.ts';
import { readForm } from './form.ts';

/**
 * Remembers which session a CAS service ticket signed in. The CAS route passes the ticket in
 * the login result; the session it ends up in is known only once oidc-provider has resumed the
 * authorization (a first sign-in creates the session there).
 */
export function rememberCasSessions(casSessions: CasSessions): Middleware {
  return async (ctx, next) => {
    await next();
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    const login = oidc?.route === 'resume' ? oidc.result?.login : undefined;
    const accountId = oidc?.session?.accountId;
    if (typeof login?.casTicket !== 'string' || !accountId || accountId !== login.accountId) return;
    // The session was just saved with this lifetime.
    await casSessions.remember(login.casTicket, { sessionUid: oidc.session!.uid, accountId }, TTL.Session);
  };
}

export interface CasLogoutDeps {
  provider: Provider;
  casSessions: CasSessions;
  logger: Logger;
}

/**
 * CAS single logout (CAS 3.0 §2.3.3): CAS posts `logoutRequest`, a SAML LogoutRequest naming the
 * service ticket, to the service URL it issued the ticket for. The session that ticket signed in
 * ends, with back-channel logout to its applications. A ticket Gatehouse did not validate, or one
 * already used for a logout, ends nothing and gets the same 200: CAS ignores the answer, and a
 * different one would tell a prober which tickets are live.
 */
export async function casLogout(ctx: Context, deps: CasLogoutDeps): Promise<void> {
  const ticket = logoutRequestTicket((await readForm(ctx)).get('logoutRequest') ?? '');
  if (!ticket) throw new errors.InvalidRequest('expected a CAS logoutRequest: a SAML LogoutRequest naming a service ticket');
  const known = await deps.casSessions.take(ticket);
  const session = known ? await deps.provider.Session.findByUid(known.sessionUid) : undefined;
  // Only while the session is still that person's.
  if (session && session.accountId === known!.accountId) {
    await endSession(deps.provider, ctx, session);
    deps.logger.info({ event: 'cas.logout', account: known!.accountId }, 'CAS single logout ended a session');
  }
  ctx.status = 200;
  ctx.type = 'text/plain';
  ctx.body = '';
}
