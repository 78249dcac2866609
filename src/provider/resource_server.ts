import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import { decideScopes, liveScopes, OIDC_SCOPES, type Flow } from '../policy/scope_policy.ts';
import { parseScope } from '../policy/requested_scopes.ts';
import { policyClient, type ScopeService } from './scope_service.ts';
import { TTL } from './ttl.ts';

/** The signing keys a JWT access token may use now: the main key, or the restricted one. */
export interface AccessTokenKeys {
  readonly mainKid: string;
  readonly restrictedKid: string;
}

interface TokenEntity {
  accountId?: string;
  scope?: string;
}

/**
 * Every access token that carries more than OIDC scopes is issued for a resource (RFC 8707):
 * the institution's APIs, identified by the issuer URL. oidc-provider asks here what that
 * resource accepts, at the authorization request, at sign-in, at code exchange and at each
 * refresh, so this is where the scope policy decides, with the person's live groups.
 *
 * A person's token for the issuer carries the OIDC scopes too, so that one token serves the
 * APIs and userinfo (see userinfo_tokens.ts); a token request that names its `resource`
 * explicitly is narrowed to the API scopes (RFC 8707 section 2.2).
 */
export function resourceIndicators(issuer: string, scopes: ScopeService, keys: AccessTokenKeys) {
  return {
    enabled: true,
    defaultResource: async (ctx: KoaContextWithOIDC, _client: Client, oneOf?: readonly string[]) => {
      if (oneOf) return oneOf;
      if (ctx.oidc.params?.grant_type === 'client_credentials') return issuer;
      // A user flow asking only for OIDC scopes gets a token for userinfo, not for an API.
      return parseScope(ctx.oidc.params?.scope as string | undefined).some((scope) => !OIDC_SCOPES.has(scope)) ? issuer : undefined;
    },
    useGrantedResource: async () => true,
    getResourceServerInfo: async (ctx: KoaContextWithOIDC, resource: string, client: Client): Promise<ResourceServer> => {
      if (resource !== issuer) throw new errors.InvalidTarget('unknown resource');
      const flow: Flow = ctx.oidc.params?.grant_type === 'client_credentials' ? 'client_credentials' : 'user';
      const source = (ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken) as TokenEntity | undefined;
      const requested = parseScope((ctx.oidc.params?.scope as string | undefined) ?? source?.scope);
      const accountId = source?.accountId ?? ctx.oidc.session?.accountId;
      const request = await scopes.request(flow, requested, policyClient(client), accountId);
      if (ctx.oidc.params?.grant_type === 'refresh_token' && !liveScopes(request).active) {
        throw new errors.InvalidGrant('the account no longer holds the login scope');
      }
      const decision = decideScopes(request);
      if (!decision.ok) throw new errors.InvalidScope(decision.description, decision.scope);
      const { restricted, access_token_format: format } = client as { restricted?: boolean; access_token_format?: string };
      const jwt = restricted === true || format === 'jwt';
      const narrowed = ctx.oidc.route === 'token' && ctx.oidc.params?.resource !== undefined;
      return {
        scope: (narrowed ? decision.granted.filter((scope) => !OIDC_SCOPES.has(scope)) : decision.granted).join(' '),
        audience: resource,
        accessTokenTTL: flow === 'client_credentials' ? TTL.ClientCredentials : TTL.AccessToken,
        accessTokenFormat: jwt ? 'jwt' : 'opaque',
        // Restricted applications' tokens are signed with a key only scope-enforcing servers trust.
        // Read when the token is signed, not now: a rotation's key may become active in between.
        ...(jwt ? { jwt: { sign: { alg: 'RS256', get kid() { return restricted === true ? keys.restrictedKid : keys.mainKid; } } } } : {}),
      };
    },
  };
}
