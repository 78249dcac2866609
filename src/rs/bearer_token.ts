import { ResourceServerError } from './errors.ts';

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token of a request, from its Authorization header only (RFC 6750 section 2.1).
 * A token in the query string or a form body is never looked at: URLs end up in logs and
 * browser history, and a form field can be planted by another site.
 */
export function bearerToken(authorization: string | undefined): string {
  const [scheme, ...rest] = (authorization ?? '').trim().split(/ +/);
  if (!scheme || scheme.toLowerCase() !== 'bearer') {
    throw new ResourceServerError('missing_token', 'this resource needs a bearer token in the Authorization header');
  }
  const token = rest.join(' ');
  if (rest.length !== 1 || !B64TOKEN.test(token)) {
    throw new ResourceServerError('invalid_token', 'the Authorization header does not hold a well-formed bearer token');
  }
  return token;
}

/** A JWT (three base64url parts) is validated locally; anything else is introspected. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}
