import type { KoaContextWithOIDC } from 'oidc-provider';
import { parseScope } from '../policy/requested_scopes.ts';
import { orgFilters } from '../policy/scope_policy.ts';
import { policyClient, type ScopeService } from './scope_service.ts';

interface IssuedToken {
  kind: string;
  accountId?: string;
  scope?: string;
  clientId?: string;
}

/**
 * Claims added to every access token: the org `filters` its scopes grant and the person's
 * `username`. A JWT carries them; for an opaque token oidc-provider stores them with the token
 * and introspection returns them.
 */
export function extraTokenClaims(scopes: ScopeService) {
  return async (ctx: KoaContextWithOIDC, token: unknown): Promise<Record<string, unknown> | undefined> => {
    const issued = token as IssuedToken;
    if (issued.kind !== 'AccessToken' && issued.kind !== 'ClientCredentials') return undefined;
    const filters = orgFilters(parseScope(issued.scope), (ctx.oidc.client && policyClient(ctx.oidc.client).organizations) ?? {});
    const username = issued.accountId ? await scopes.username(issued.accountId) : undefined;
    return { ...(filters.length ? { filters } : {}), ...(username ? { username } : {}) };
  };
}
