/** The outcome of a scope decision: what is granted, or the OAuth error and its description. */
export type ScopeDecision =
  | { ok: true; granted: string[] }
  | { ok: false; error: 'invalid_scope'; description: string; scope: string };

/** Splits an RFC 6749 scope parameter into distinct tokens, in order. */
export function parseScope(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}

/**
 * A client may ask only for scopes it is allowed: anything else is invalid_scope (not silently
 * dropped, so a misconfigured client learns at once). With no scope requested, nothing is granted.
 */
export function clientCredentialsScopes(requested: string[], allowed: string[]): ScopeDecision {
  const allowedSet = new Set(allowed);
  const refused = requested.filter((scope) => !allowedSet.has(scope));
  if (refused.length) {
    return { ok: false, error: 'invalid_scope', description: `scope not allowed for this client: ${refused.join(' ')}`, scope: refused.join(' ') };
  }
  return { ok: true, granted: requested };
}
