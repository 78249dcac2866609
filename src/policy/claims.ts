/**
 * Which claims each scope releases (oidc-provider's `claims` option), and the claims of a
 * person. oidc-provider releases only the claims of the scopes granted.
 */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
} as const;

export interface ClaimSource {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
}

/** Every claim Gatehouse can state about a person; absent values are left out, never empty strings. */
export function personClaims(account: ClaimSource, groups: string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    sub: account.id,
    preferred_username: account.username,
    groups,
  };
  const optional = { name: account.name, given_name: account.givenName, family_name: account.familyName, email: account.email };
  for (const [claim, value] of Object.entries(optional)) if (value) claims[claim] = value;
  if (account.email) claims.email_verified = account.emailVerified;
  return claims;
}
