import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { parseScope } from '../policy/requested_scopes.ts';
import { liveScopes } from '../policy/scope_policy.ts';
import { policyClient, type ScopeService } from './scope_service.ts';

interface IntrospectedToken {
  kind: string;
  accountId?: string;
  scope?: string;
}

/**
 * Introspection answers with today's entitlements, not those at issue: the scopes are checked
 * again against the person's live groups (through the membership cache), and a person who
 * lost the login scope's group gets `active: false`.
 */
export function liveIntrospection(scopes: ScopeService): Middleware {
  return async (ctx, next) => {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (oidc?.route !== 'introspection' || body?.active !== true) return;
    const token = (oidc.entities.AccessToken ?? oidc.entities.ClientCredentials ?? oidc.entities.RefreshToken) as IntrospectedToken | undefined;
    const client = token && (await oidc.provider.Client.find(String(body.client_id)));
    if (!token || !client) return;
    const live = liveScopes(await scopes.request(
      token.kind === 'ClientCredentials' ? 'client_credentials' : 'user',
      parseScope(token.scope),
      policyClient(client),
      token.accountId,
    ));
    if (!live.active) {
      ctx.body = { active: false };
      return;
    }
    const { scope: _issued, filters: _issuedFilters, ...rest } = body;
    ctx.body = {
      ...rest,
      ...(live.granted.length ? { scope: live.granted.join(' ') } : {}),
      ...(live.filters.length ? { filters: live.filters } : {}),
    };
  };
}
