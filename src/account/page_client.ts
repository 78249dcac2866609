import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import { newClientSecret } from '../provider/client_secret.ts';

/**
 * The account page signs a person in the way every application does: an authorization request
 * (as this client, configured in oidc-provider itself and in no database) to the usual login,
 * local or CAS, which lands back on /account with a session. The id cannot be taken by a
 * registered client: theirs are 16 letters and digits. The redirect URI is fixed, so the
 * sign-in can only ever return to /account (no open redirect); consent is skipped, as for any
 * first-party client, and the code is never redeemed: /account revokes its grant on arrival.
 * Anyone can send an authorization request as this client and stop at the redirect with the
 * code and their own PKCE verifier, so the token endpoint must refuse it: the client
 * authenticates with a secret no one holds (a digest of one thrown away at start).
 */
export const ACCOUNT_PAGE_CLIENT_ID = 'gatehouse-account';

export const ACCOUNT_PATH = '/account';

export function accountPageClient(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_PAGE_CLIENT_ID,
    client_name: 'Gatehouse account',
    kind: 'web',
    application_type: 'web',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    client_secret: newClientSecret().stored,
    redirect_uris: [`${issuer}${ACCOUNT_PATH}`],
    allowed_scopes: 'openid',
    scope: 'openid',
    consent: 'skip',
    restricted: false,
    organizations: {},
    access_token_format: 'opaque',
  };
}

/**
 * The authorization request that signs the person in for the account page. The verifier of its
 * PKCE challenge is thrown away, as the client's secret is: no one can redeem the code.
 */
export function accountSignInUrl(issuer: string): string {
  const params = new URLSearchParams({
    client_id: ACCOUNT_PAGE_CLIENT_ID,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: `${issuer}${ACCOUNT_PATH}`,
    code_challenge: randomBytes(32).toString('base64url'),
    code_challenge_method: 'S256',
  });
  return `${issuer}/auth?${params}`;
}
