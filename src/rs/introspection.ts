import { answerFromClaims, type TokenAnswer } from './auth.ts';
import { ResourceServerError } from './errors.ts';
import { fetchJson, unavailable } from './gatehouse_endpoints.ts';

export interface IntrospectionClient {
  endpoint: string;
  clientId: string;
  clientSecret: string;
  issuer: string;
  loginScope: string;
  timeoutMs: number;
}

/**
 * RFC 7662 introspection as the resource server (its own client credentials, HTTP Basic with
 * both parts form-encoded as RFC 6749 section 2.3.1 says). An inactive token is an answer
 * (cached like any); an endpoint that fails or refuses the resource server is an outage.
 */
export async function introspect(client: IntrospectionClient, token: string): Promise<TokenAnswer> {
  const credentials = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
  const { status, body } = await fetchJson(client.endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    // The hint spares Gatehouse a refresh token look-up.
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  }, client.timeoutMs, 'token introspection');
  if (status !== 200) throw unavailable(`token introspection answered ${status} ${typeof body.error === 'string' ? body.error : ''}`.trim());
  if (body.active !== true) return { error: new ResourceServerError('invalid_token', 'the token is not active (expired, revoked or unknown)') };
  // A sender-constrained token (DPoP, mTLS) is worthless without its proof, which this kit does not check.
  if ((body.token_type !== undefined && body.token_type !== 'Bearer') || body.cnf !== undefined) {
    return { error: new ResourceServerError('invalid_token', 'the token is bound to a key and needs a proof of possession') };
  }
  return answerFromClaims(body, client.issuer, client.loginScope);
}
