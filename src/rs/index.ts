/**
 * gatehouse/rs: the resource-server kit. Koa middleware that validates Gatehouse's access
 * tokens (introspection, or the JWKS for JWTs) and enforces scopes per HTTP method and route.
 */
export { protect, type ProtectOptions, type ProtectMiddleware, type AuthState } from './protect.ts';
export { requireScopes, requirePerson, requireServer } from './require.ts';
export { ResourceServerError, type ResourceServerErrorCode } from './errors.ts';
export { DEFAULT_METHOD_SCOPES, type MethodScopes } from './method_scopes.ts';
export type { Auth } from './auth.ts';
