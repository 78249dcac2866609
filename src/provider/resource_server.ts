import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import { clientCredentialsScopes, parseScope } from '../policy/requested_scopes.ts';
import { TTL } from './ttl.ts';

/**
 * Every access token is issued for a resource (RFC 8707); this is where oidc-provider asks what
 * a resource accepts, so it is where a request's scopes meet the policy. Without an explicit
 * `resource` parameter, client credentials tokens are for the default resource: the
 * institution's APIs, identified by the issuer URL.
 */
export function resourceIndicators(issuer: string) {
  return {
    enabled: true,
    defaultResource: async (ctx: KoaContextWithOIDC, _client: Client, oneOf?: readonly string[]) =>
      oneOf ?? (ctx.oidc.params?.grant_type === 'client_credentials' ? issuer : undefined),
    useGrantedResource: async () => true,
    getResourceServerInfo: async (ctx: KoaContextWithOIDC, resource: string, client: Client): Promise<ResourceServer> => {
      if (resource !== issuer) throw new errors.InvalidTarget('unknown resource');
      const decision = clientCredentialsScopes(parseScope(ctx.oidc.params?.scope as string | undefined), parseScope(client.scope));
      if (!decision.ok) throw new errors.InvalidScope(decision.description, decision.scope);
      return {
        scope: decision.granted.join(' '),
        audience: resource,
        accessTokenFormat: 'opaque',
        accessTokenTTL: TTL.ClientCredentials,
      };
    },
  };
}
