/** Splits an RFC 6749 scope parameter into distinct tokens, in order. */
export function parseScope(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}
