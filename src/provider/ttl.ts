/**
 * Lifetimes in seconds. Access tokens are short because a JWT cannot be recalled before it
 * expires and an opaque one is re-checked at each introspection anyway; refresh tokens and
 * grants carry long-lived access instead, and those live in Postgres and can be revoked.
 */
export const TTL = {
  AccessToken: 10 * 60,
  ClientCredentials: 10 * 60,
  AuthorizationCode: 60,
  IdToken: 60 * 60,
  Interaction: 30 * 60,
  Session: 14 * 24 * 60 * 60,
  Grant: 30 * 24 * 60 * 60,
  RefreshToken: 30 * 24 * 60 * 60,
  DeviceCode: 10 * 60,
  BackchannelAuthenticationRequest: 10 * 60,
  PreAuthorizedCode: 10 * 60,
} as const;
