import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { answerFromClaims, type TokenAnswer } from './auth.ts';
import { ResourceServerError } from './errors.ts';
import { unavailable, type Endpoints } from './gatehouse_endpoints.ts';

/**
 * The keys a JWT access token may be signed with: the main JWKS, and the restricted one only
 * for a resource server that opted in (it enforces scopes, so restricted applications' tokens
 * are safe with it; see the restricted applications in DESIGN.md).
 */
export function accessTokenKeys(endpoints: Endpoints, acceptRestricted: boolean, timeoutMs: number): JWTVerifyGetKey {
  const main = createRemoteJWKSet(new URL(endpoints.jwks), { timeoutDuration: timeoutMs });
  const restricted = acceptRestricted && endpoints.restrictedJwks ? createRemoteJWKSet(new URL(endpoints.restrictedJwks), { timeoutDuration: timeoutMs }) : undefined;
  return async (header, token) => {
    try {
      return await main(header, token);
    } catch (error) {
      if (restricted && error instanceof errors.JWKSNoMatchingKey) return restricted(header, token);
      throw error;
    }
  };
}

// jose errors that say the token is bad; any other (a timeout, a refused or failed JWKS fetch) is an outage.
const TOKEN_FAULTS = new Set([
  'ERR_JWT_EXPIRED', 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'ERR_JWT_INVALID', 'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JOSE_ALG_NOT_ALLOWED', 'ERR_JOSE_NOT_SUPPORTED',
]);

/** An RFC 9068 JWT access token: signature, `typ: at+jwt`, issuer, audience (the issuer URL) and expiry. */
export async function verifyJwtAccessToken(token: string, keys: JWTVerifyGetKey, issuer: string, loginScope: string): Promise<TokenAnswer> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keys, { issuer, audience: issuer, typ: 'at+jwt', requiredClaims: ['exp', 'client_id'] }));
  } catch (error) {
    if (error instanceof errors.JOSEError && TOKEN_FAULTS.has(error.code)) {
      return { error: new ResourceServerError('invalid_token', error instanceof errors.JWTExpired ? 'the token has expired' : `the token is not valid here: ${error.message}`, { cause: error }) };
    }
    throw unavailable('the issuer\'s signing keys could not be fetched', error);
  }
  if (payload.cnf !== undefined) return { error: new ResourceServerError('invalid_token', 'the token is bound to a key and needs a proof of possession') };
  return answerFromClaims(payload, issuer, loginScope);
}
