import { ResourceServerError } from './errors.ts';

/** Who and what a validated token stands for: `ctx.state.auth`. */
export interface Auth {
  /** The person's subject; undefined for a server's (client credentials) token. */
  readonly sub: string | undefined;
  /** The client the token was issued to. */
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** The org filters the token grants, e.g. `{ course_org: ['MITx'] }`: apply them in your queries. */
  readonly filters: Readonly<Record<string, readonly string[]>>;
  /** The person's username; undefined for a server. */
  readonly username: string | undefined;
  /** True when a person signed in through the login selector scope (not `auth-none`). */
  readonly user: boolean;
}

/** What validating a token tells: its Auth and `exp` (epoch seconds), or why it is refused. Cached either way. */
export type TokenAnswer = { auth: Auth; exp: number | undefined } | { error: ResourceServerError };

/** The answer for claims already known to be genuine and active; a claim check that fails is the answer's error. */
export function answerFromClaims(claims: TokenClaims & { exp?: unknown }, issuer: string, loginScope: string): TokenAnswer {
  try {
    return { auth: authFromClaims(claims, issuer, loginScope), exp: typeof claims.exp === 'number' ? claims.exp : undefined };
  } catch (error) {
    if (error instanceof ResourceServerError) return { error };
    throw error;
  }
}

/** The claims both an introspection answer (RFC 7662) and a JWT access token (RFC 9068) carry. */
export interface TokenClaims {
  iss?: unknown;
  aud?: unknown;
  sub?: unknown;
  client_id?: unknown;
  scope?: unknown;
  filters?: unknown;
  username?: unknown;
}

/** `["course_org:MITx", "user_org:Harvard"]` as `{ course_org: ['MITx'], user_org: ['Harvard'] }`. */
export function parseFilters(filters: unknown): Record<string, string[]> {
  const parsed: Record<string, string[]> = {};
  if (!Array.isArray(filters)) return parsed;
  for (const filter of filters) {
    if (typeof filter !== 'string') continue;
    const colon = filter.indexOf(':');
    if (colon <= 0 || colon === filter.length - 1) continue;
    (parsed[filter.slice(0, colon)] ??= []).push(filter.slice(colon + 1));
  }
  return parsed;
}

/**
 * The Auth for a token's claims, once its signature or activity is established. The token must
 * come from `issuer` and be meant for its APIs: Gatehouse gives every API token the issuer URL
 * as its audience (RFC 8707), so a token without it (a person's userinfo-only token) or for
 * another resource is refused like a foreign one.
 */
export function authFromClaims(claims: TokenClaims, issuer: string, loginScope: string): Auth {
  if (claims.iss !== undefined && claims.iss !== issuer) throw new ResourceServerError('invalid_token', 'the token was issued by another issuer');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(issuer)) throw new ResourceServerError('invalid_token', 'the token is not meant for this resource server');
  if (typeof claims.client_id !== 'string') throw new ResourceServerError('invalid_token', 'the token names no client');
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
  const filters = parseFilters(claims.filters);
  for (const values of Object.values(filters)) Object.freeze(values);
  // Frozen: one cached Auth serves every request with the same token, so no handler may change it.
  return Object.freeze({
    sub: typeof claims.sub === 'string' ? claims.sub : undefined,
    clientId: claims.client_id,
    scopes: Object.freeze(scopes),
    filters: Object.freeze(filters),
    username: typeof claims.username === 'string' ? claims.username : undefined,
    user: scopes.includes(loginScope),
  });
}

/** The selector scope of a trusted server's token (client credentials). */
export const AUTH_NONE_SCOPE = 'auth-none';
