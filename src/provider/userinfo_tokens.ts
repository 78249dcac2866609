import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { Provider, type JWTStructured, type KoaContextWithOIDC } from 'oidc-provider';

type AccessTokenModel = Provider['AccessToken'];
type AccessToken = InstanceType<AccessTokenModel>;

/** The claim of a JWT access token that names the Grant it was issued under. */
const GRANT_CLAIM = 'grant_id';

/**
 * Names the token's Grant in every JWT access token. Userinfo needs the Grant (it holds what
 * the person consented to, and a revoked grant must stop the token), and a JWT, unlike an opaque
 * token, is not stored. The id is an opaque random string that no endpoint accepts as a
 * credential; an API already knows the pair (sub, client_id) it stands for.
 */
export function nameGrantInJwt(_ctx: KoaContextWithOIDC, token: object, jwt: JWTStructured): void {
  const { grantId } = token as { grantId?: string };
  if (grantId) jwt.payload[GRANT_CLAIM] = grantId;
}

export interface UserinfoTokenSources {
  issuer: string;
  /** Every public key an access token may be signed with now (main and restricted): they change at a rotation. */
  publicKeys: () => JWK[];
}

/**
 * One access token for userinfo and the APIs. A person's token for Gatehouse's default
 * resource has the issuer itself as its audience; oidc-provider's userinfo refuses every token
 * with an audience, so at that one endpoint such a token is read as if it had none. The token
 * still needs the `openid` scope there, which a narrowed token (explicit `resource`) lacks.
 * JWT access tokens are not stored: userinfo verifies them with the provider's keys, then
 * oidc-provider loads the Grant the token names (a revoked one stops it) and checks the token's
 * sender constraint (DPoP, mTLS) as for any token. Unlike an opaque token, a JWT is not bound to
 * the session: after sign-out it is honoured, here as at any API, until it expires (minutes).
 */
export function acceptIssuerTokensAtUserinfo(provider: Provider, sources: UserinfoTokenSources): void {
  const AccessToken = provider.AccessToken;
  const find = AccessToken.find.bind(AccessToken);
  // Imported once per set of published keys (a rotation or a retirement changes it): importing
  // them for every request doubled the cost of verifying the token (about 40 µs more).
  let imported: { kids: string; keySet: ReturnType<typeof createLocalJWKSet> } | undefined;
  const keySet = () => {
    const keys = sources.publicKeys();
    const kids = keys.map((key) => key.kid).join(' ');
    if (imported?.kids !== kids) imported = { kids, keySet: createLocalJWKSet({ keys }) };
    return imported.keySet;
  };
  const fromJwt = async (value: string): Promise<AccessToken | undefined> => {
    const verified = await jwtVerify(value, keySet(), { issuer: sources.issuer, audience: sources.issuer, typ: 'at+jwt' }).catch(() => undefined);
    const { sub, client_id: clientId, scope, jti, iat, exp, cnf, [GRANT_CLAIM]: grantId } = (verified?.payload ?? {}) as Record<string, unknown> & { cnf?: Record<string, string> };
    if (typeof sub !== 'string' || typeof clientId !== 'string' || typeof grantId !== 'string' || sub === clientId) return undefined;
    const binding = { jkt: cnf?.jkt, 'x5t#S256': cnf?.['x5t#S256'] };
    return new AccessToken({ jti, iat, exp, accountId: sub, clientId, grantId, scope, ...binding } as unknown as ConstructorParameters<AccessTokenModel>[0]);
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
