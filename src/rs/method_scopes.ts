import { ResourceServerError } from './errors.ts';

/** The scopes each HTTP method needs: all of them, when several are listed. */
export type MethodScopes = Readonly<Record<string, string | readonly string[]>>;

/** RESTful by default, as the scope standard in the seeds asks: one generic scope per method. */
export const DEFAULT_METHOD_SCOPES: MethodScopes = Object.freeze({
  GET: 'read',
  HEAD: 'read',
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
});

/** The defaults with `overrides` on top (a method named there replaces its default). */
export function methodScopeTable(overrides: MethodScopes = {}): Map<string, readonly string[]> {
  const merged = { ...DEFAULT_METHOD_SCOPES, ...Object.fromEntries(Object.entries(overrides).map(([method, scopes]) => [method.toUpperCase(), scopes])) };
  return new Map(Object.entries(merged).map(([method, scopes]) => [method, typeof scopes === 'string' ? [scopes] : [...scopes]]));
}

/**
 * The scopes a request with this method needs. A method the table does not name is refused
 * (405) rather than let through: a method nobody thought of must not skip the scope check.
 */
export function scopesForMethod(table: ReadonlyMap<string, readonly string[]>, method: string): readonly string[] {
  const scopes = table.get(method.toUpperCase());
  if (!scopes) throw new ResourceServerError('method_not_allowed', `${method} is not allowed here`);
  return scopes;
}

/** Throws insufficient_scope naming every scope `required` that `granted` lacks. */
export function assertScopes(granted: readonly string[], required: readonly string[]): void {
  const missing = required.filter((scope) => !granted.includes(scope));
  if (missing.length) {
    throw new ResourceServerError('insufficient_scope', `the token lacks the scope this request needs: ${missing.join(' ')}`, { scope: required.join(' ') });
  }
}
