import type { Context, Middleware } from 'koa';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { Knex } from 'knex';
import type { Logger } from '../log.ts';
import { TtlCache } from '../ttl_cache.ts';
import { TTL } from '../provider/ttl.ts';
import { recordSessionActivity } from '../storage/account_sessions.ts';
import { recordGrantUse } from '../storage/grant_use.ts';

/**
 * "Last active" and "last used" on the account page are true to the minute: each instance
 * writes a session's or grant's activity at most once a minute (and the SQL skips a grant's
 * write within a minute of another instance's), so a busy session or token costs one write a
 * minute. A failed write counts as that minute's too: with the database not answering, every
 * request of the session would otherwise wait for its own try, and log its own warning.
 */
const ACTIVITY_RESOLUTION_SECONDS = 60;

/** The routes where a person's browser uses its session: an application's sign-in request and its return from the login page. */
const SESSION_ROUTES: ReadonlySet<string> = new Set(['authorization', 'resume']);

type SessionLike = { uid: string; accountId?: string | undefined; exp?: number | undefined; destroyed?: boolean };

export interface AccountActivity {
  /** Notes that the session was used by this request (its browser and address). */
  sessionUsed(ctx: Context, session: SessionLike): Promise<void>;
}

/**
 * Keeps what the account page shows: each session's browser, address and last activity (from
 * the requests that use it), and each grant's last use (from oidc-provider's grant.success: a
 * code redeemed or a token refreshed). A failed write is logged, never the request's failure.
 */
export function trackAccountActivity(provider: Provider, db: Knex, logger: Logger): { activity: AccountActivity; middleware: Middleware } {
  const sessionsWritten = new TtlCache<void>('account_session_activity', ACTIVITY_RESOLUTION_SECONDS);
  const grantsWritten = new TtlCache<void>('grant_use', ACTIVITY_RESOLUTION_SECONDS);
  const noted = (write: Promise<void>) => write.catch((err: unknown) => logger.warn({ err }, 'account activity not recorded'));

  const activity: AccountActivity = {
    sessionUsed: async (ctx, session) => {
      const accountId = session.accountId;
      if (!accountId || session.destroyed) return;
      const expiresAt = new Date((session.exp ?? Math.floor(Date.now() / 1000) + TTL.Session) * 1000);
      await sessionsWritten.get(`${session.uid}:${accountId}`, () => noted(recordSessionActivity(db, {
        sessionUid: session.uid, accountId, userAgent: ctx.get('user-agent'), ip: ctx.ip, expiresAt,
      })));
    },
  };

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grant = ctx.oidc.entities.Grant as { jti?: string; exp?: number } | undefined;
    if (!grant?.jti || !grant.exp) return;
    const { jti, exp } = grant;
    void grantsWritten.get(jti, () => noted(recordGrantUse(db, jti, new Date(exp * 1000), ACTIVITY_RESOLUTION_SECONDS)));
  });

  const middleware: Middleware = async (ctx, next) => {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
    if (!oidc?.route || !SESSION_ROUTES.has(oidc.route)) return;
    const session = oidc.entities.Session as SessionLike | undefined;
    if (session) await activity.sessionUsed(ctx, session);
  };
  return { activity, middleware };
}
