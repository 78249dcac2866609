import type { Middleware, ParameterizedContext } from 'koa';
import type { Auth } from './auth.ts';
import { bearerToken } from './bearer_token.ts';
import { errorResponse } from './challenge.ts';
import { ResourceServerError } from './errors.ts';
import { assertScopes, methodScopeTable, scopesForMethod, type MethodScopes } from './method_scopes.ts';
import { TokenValidator } from './token_validator.ts';

export interface ProtectOptions {
  /** Gatehouse's issuer URL, exactly as its discovery document names it. */
  issuer: string;
  /** The resource server's own client (`gatehouse clients create --kind resource-server`). */
  clientId: string;
  clientSecret: string;
  /** The longest an introspection answer is trusted (never past the token's `exp`). Default 30. */
  cacheSeconds?: number;
  /** Accept restricted applications' JWTs (signed with the restricted key). Default false. */
  acceptRestricted?: boolean;
  /** Scopes per HTTP method, over the defaults (GET/HEAD read, POST create, PUT/PATCH update, DELETE delete); false: no method check. */
  methodScopes?: false | MethodScopes;
  /** Gatehouse's login selector scope (its LOGIN_SCOPE): a token with it is a person's. Default 'auth-cas'. */
  loginScope?: string;
  /** How long Gatehouse may take to answer before the request gets 503. Default 5. */
  timeoutSeconds?: number;
}

export interface AuthState {
  auth: Auth;
}

export type ProtectMiddleware = Middleware<AuthState> & {
  /** The same validation (and cache) with other scopes for some methods, for one route. */
  withMethodScopes(overrides: false | MethodScopes): Middleware<AuthState>;
};

/** The login scope each Auth was validated with, for requirePerson(). */
const loginScopes = new WeakMap<Auth, string>();

export function loginScopeOf(auth: Auth): string | undefined {
  return loginScopes.get(auth);
}

/** Answers the request with the error as RFC 6750 says. */
export function respondWithError(ctx: ParameterizedContext, error: ResourceServerError, allow?: readonly string[]): void {
  const response = errorResponse(error);
  ctx.status = response.status;
  ctx.set(response.headers);
  if (allow) ctx.set('allow', allow.join(', '));
  ctx.body = response.body;
}

/**
 * Koa middleware that lets a request through only with a valid bearer token whose scopes
 * cover its method, and sets `ctx.state.auth`. Errors are answered here, per RFC 6750.
 */
export function protect(options: ProtectOptions): ProtectMiddleware {
  const settings = validated(options);
  const validator = new TokenValidator(settings);
  const base = options.methodScopes === false ? {} : (options.methodScopes ?? {});

  const guard = (table: ReadonlyMap<string, readonly string[]> | undefined): Middleware<AuthState> => async (ctx, next) => {
    try {
      const auth = await validator.validate(bearerToken(ctx.get('authorization') || undefined));
      loginScopes.set(auth, settings.loginScope);
      ctx.state.auth = auth;
      if (table) assertScopes(auth.scopes, scopesForMethod(table, ctx.method));
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      respondWithError(ctx, error, error.code === 'method_not_allowed' ? [...table!.keys()] : undefined);
      return;
    }
    await next();
  };

  return Object.assign(guard(options.methodScopes === false ? undefined : methodScopeTable(base)), {
    withMethodScopes: (overrides: false | MethodScopes) => guard(overrides === false ? undefined : methodScopeTable({ ...base, ...overrides })),
  });
}

function validated(options: ProtectOptions) {
  const { issuer, clientId, clientSecret, cacheSeconds = 30, acceptRestricted = false, loginScope = 'auth-cas', timeoutSeconds = 5 } = options;
  const problem = (what: string) => new TypeError(`protect(): ${what}`);
  if (typeof issuer !== 'string' || !/^https?:\/\/[^/]/.test(issuer) || issuer.endsWith('/')) throw problem('issuer must be an http(s) URL without a trailing slash');
  if (typeof clientId !== 'string' || !clientId || typeof clientSecret !== 'string' || !clientSecret) throw problem('clientId and clientSecret are required');
  if (!Number.isFinite(cacheSeconds) || cacheSeconds < 0) throw problem('cacheSeconds must be a number of seconds, 0 or more');
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw problem('timeoutSeconds must be a positive number of seconds');
  return { issuer, clientId, clientSecret, cacheSeconds, acceptRestricted: acceptRestricted === true, loginScope, timeoutMs: timeoutSeconds * 1000 };
}
