import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The forms' CSRF token: an HMAC of the interaction uid under a server key. Only a page
 * rendered for this interaction carries it, and the interaction is bound to the browser by its
 * cookie (checked against the URL's uid), so a cross-site form cannot supply it.
 */
export function csrfToken(key: string, uid: string): string {
  return createHmac('sha256', key).update(`gatehouse-csrf:${uid}`).digest('base64url');
}

export function csrfValid(key: string, uid: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfToken(key, uid));
  const actual = Buffer.from(presented);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
