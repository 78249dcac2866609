import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { Provider } from 'oidc-provider';
import type { Knex } from 'knex';
import { latestGrantId } from '../storage/grants.ts';

type AccessTokenModel = Provider['AccessToken'];
type AccessToken = InstanceType<AccessTokenModel>;

export interface UserinfoTokenSources {
  issuer: string;
  /** Every public key an access token may be signed with (main and restricted). */
  publicKeys: JWK[];
  db: Knex;
}

/**
 * One access token for userinfo and the APIs. A person's token for Gatehouse's default
 * resource has the issuer itself as its audience; oidc-provider's userinfo refuses every token
 * with an audience, so at that one endpoint such a token is read as if it had none. The token
 * still needs the `openid` scope there, which a narrowed token (explicit `resource`) lacks.
 * JWT access tokens are not stored: userinfo verifies them with the provider's keys and reads
 * the Grant of that person and client (Gatehouse keeps one), so a revoked grant stops them too.
 */
export function acceptIssuerTokensAtUserinfo(provider: Provider, sources: UserinfoTokenSources): void {
  const AccessToken = provider.AccessToken;
  const find = AccessToken.find.bind(AccessToken);
  const keySet = createLocalJWKSet({ keys: sources.publicKeys });
  const fromJwt = async (value: string): Promise<AccessToken | undefined> => {
    const verified = await jwtVerify(value, keySet, { issuer: sources.issuer, audience: sources.issuer, typ: 'at+jwt' }).catch(() => undefined);
    const { sub, client_id: clientId, scope, jti, iat, exp } = (verified?.payload ?? {}) as Record<string, unknown>;
    if (typeof sub !== 'string' || typeof clientId !== 'string' || sub === clientId) return undefined;
    const grantId = await latestGrantId(sources.db, sub, clientId);
    return grantId ? new AccessToken({ jti, iat, exp, accountId: sub, clientId, grantId, scope } as unknown as ConstructorParameters<AccessTokenModel>[0]) : undefined;
  };
  AccessToken.find = (async (value: string, options?: object) => {
    if ((Provider as unknown as { ctx?: { oidc?: { route?: string } } }).ctx?.oidc?.route !== 'userinfo') return find(value, options);
    const token = (looksLikeJwt(value) ? await fromJwt(value) : await find(value, options)) as AccessToken | undefined;
    if (token?.aud === sources.issuer) token.aud = undefined;
    return token;
  }) as AccessTokenModel['find'];
}

function looksLikeJwt(value: unknown): value is string {
  return typeof value === 'string' && value.split('.').length === 3;
}
