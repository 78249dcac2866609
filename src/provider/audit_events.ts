import type { Middleware } from 'koa';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { AuditEvent, AuditWriter } from '../storage/audit_log.ts';
import { isConcurrentReuse } from '../storage/errors.ts';

/** oidc-provider's words for a code or refresh token that came back after its one use (lib/actions/grants/). */
const REUSE_DETAILS: ReadonlySet<string> = new Set(['authorization code already consumed', 'refresh token already used']);

/** Why oidc-provider revoked a grant, by the route that did it. */
const REVOKED_BECAUSE: Record<string, string> = {
  token: 'token_reuse',
  revocation: 'refresh_token_revoked',
  // "Sign out" confirmed: each grant of the session that was not given offline access goes.
  end_session_confirm: 'signed_out',
};

/** The revocable kinds, as the audit log names them. */
const TOKEN_TYPES: Record<string, string> = { AccessToken: 'access_token', RefreshToken: 'refresh_token', ClientCredentials: 'client_credentials' };

interface TokenLike {
  accountId?: string | undefined;
  scope?: string | undefined;
}

/**
 * The audit events the token endpoints cause, taken from oidc-provider's events: tokens issued
 * (grant.success), a code or refresh token used twice (grant.error), grants revoked (grant.revoked).
 * Listeners only read the context and hand the event to the buffered writer: a token request
 * never waits for the audit log. Nothing that is a token, code or secret is copied, only ids
 * (client, account) and scope names.
 */
export function auditProviderEvents(provider: Provider, audit: AuditWriter, usernameOf: UsernameOf): void {
  const record = recordAbout(audit, usernameOf);
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const { entities, params } = ctx.oidc;
    const grantType = String(params?.grant_type);
    const token = (entities.AccessToken ?? entities.ClientCredentials) as TokenLike | undefined;
    const refreshIssued = grantType === 'refresh_token' ? Boolean(entities.RotatedRefreshToken) : Boolean(entities.RefreshToken);
    record({
      ...fromClient(ctx),
      event: 'token.issued',
      detail: { grant_type: grantType, scopes: token?.scope ? token.scope.split(' ') : [], issued: refreshIssued ? ['access_token', 'refresh_token'] : ['access_token'] },
    });
  });

  // A replayed code is revoked (with its grant) before anything reads it: the event names the
  // client and address, not the person. A replayed refresh token names both.
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: { error_detail?: string }) => {
    const concurrent = isConcurrentReuse(error);
    if (!concurrent && !REUSE_DETAILS.has(error.error_detail ?? '')) return;
    record({
      ...fromClient(ctx),
      event: 'token.reuse_detected',
      detail: { grant_type: String(ctx.oidc.params?.grant_type), concurrent },
    });
  });

  provider.on('grant.revoked', (ctx: KoaContextWithOIDC) => {
    const bySession = ctx.oidc.route === 'end_session_confirm';
    const event = fromClient(ctx);
    record({
      ...event,
      // Signing out is the person's own act; reuse and revocation are the client's requests.
      // At sign-out every grant of the session goes, not only the client's that asked.
      ...(bySession ? { actor: `account:${event.accountId}`, clientId: undefined } : {}),
      event: 'consent.revoked',
      detail: { reason: REVOKED_BECAUSE[ctx.oidc.route] ?? ctx.oidc.route },
    });
  });
}

/**
 * RFC 7009 revocation answers 200 whether or not a token was found, and oidc-provider emits no
 * event for it: after the answer, the token it revoked is the context's entity. A token of
 * another client is refused before (src/provider/token_policies.ts), so an entity at 200 was revoked.
 */
export function auditRevocations(audit: AuditWriter, usernameOf: UsernameOf): Middleware {
  const record = recordAbout(audit, usernameOf);
  return async (ctx, next) => {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
    if (oidc?.route !== 'revocation' || ctx.status !== 200) return;
    const kind = Object.keys(TOKEN_TYPES).find((name) => oidc.entities[name]);
    if (kind) record({ ...fromClient(ctx as unknown as KoaContextWithOIDC), event: 'token.revoked', detail: { token_type: TOKEN_TYPES[kind] } });
  };
}

/**
 * A client's request (the client is the actor) and the person it concerns, as far as its context
 * tells. The address is koa's, TRUST_PROXY applied (src/proxy_headers.ts), as the login limits see it.
 */
function fromClient(ctx: KoaContextWithOIDC): Omit<AuditEvent, 'event'> {
  const { client, entities } = ctx.oidc;
  const account = entities.Account;
  const token = (entities.RefreshToken ?? entities.AccessToken) as TokenLike | undefined;
  return {
    actor: `client:${client?.clientId}`,
    clientId: client?.clientId,
    ip: ctx.ip,
    accountId: account?.accountId ?? token?.accountId ?? entities.Session?.accountId,
    username: account?.username as string | undefined,
  };
}

/** An account's username by its sub: ScopeService.username, whose cache the token path fills. */
export type UsernameOf = (accountId: string) => Promise<string | undefined>;

/**
 * Records an event at once, or, when it names an account but not its username (revocation,
 * sign-out: rare), after looking the username up, off the request's path. If the lookup fails
 * the event still goes, with the sub.
 */
function recordAbout(audit: AuditWriter, usernameOf: UsernameOf): (event: AuditEvent) => void {
  return (event) => {
    if (!event.accountId || event.username) return audit.record(event);
    const at = new Date();
    void usernameOf(event.accountId).catch(() => undefined).then((username) => audit.record({ ...event, at, username }));
  };
}
