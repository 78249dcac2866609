import type { Middleware } from 'koa';
import { AUTH_NONE_SCOPE } from './auth.ts';
import { ResourceServerError } from './errors.ts';
import { assertScopes } from './method_scopes.ts';
import { loginScopeOf, respondWithError, type AuthState } from './protect.ts';

/** A route check after protect(): refuses with 403 insufficient_scope when `check` throws it. */
function routeCheck(name: string, check: (auth: AuthState['auth']) => void): Middleware<AuthState> {
  return async (ctx, next) => {
    const { auth } = ctx.state;
    // A route guard mounted without protect() in front is a programming error: fail closed.
    if (!auth) throw new Error(`${name} needs protect() in front of it`);
    try {
      check(auth);
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      respondWithError(ctx, error);
      return;
    }
    await next();
  };
}

/** Every one of `scopes` (say, enterprise scopes) on this route, besides the method's scope. */
export function requireScopes(...scopes: string[]): Middleware<AuthState> {
  return routeCheck('requireScopes()', (auth) => assertScopes(auth.scopes, scopes));
}

/** Only a person signed in through the login selector scope, never a server. */
export function requirePerson(): Middleware<AuthState> {
  return routeCheck('requirePerson()', (auth) => {
    if (!auth.user) {
      throw new ResourceServerError('insufficient_scope', 'this resource is for a signed-in person', { scope: loginScopeOf(auth) ?? 'auth-cas' });
    }
  });
}

/** Only a trusted server (a client credentials token with `auth-none`), never a person. */
export function requireServer(): Middleware<AuthState> {
  return routeCheck('requireServer()', (auth) => {
    if (!auth.scopes.includes(AUTH_NONE_SCOPE)) throw new ResourceServerError('insufficient_scope', 'this resource is for a trusted server', { scope: AUTH_NONE_SCOPE });
  });
}
