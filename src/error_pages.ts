import type { Context, Middleware } from 'koa';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { Logger } from './log.ts';
import { renderErrorPage } from './pages.ts';
import { isUnavailable, StorageUnavailable } from './storage/errors.ts';

interface ExposedError {
  expose?: boolean;
  status?: number;
  statusCode?: number;
  message: string;
  error_description?: string;
}

const OUTAGE = Symbol('gatehouse.outage');

/**
 * oidc-provider answers any error it did not expect with 500 server_error, an outage met in
 * one of Gatehouse's hooks too (an account, an enterprise scope, a group looked up while a
 * token is issued). It says so in its server_error event, in the same tick: the request is
 * marked, and errorPages answers it as the outage it is.
 */
export function markOutages(provider: Provider): void {
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
    if (isUnavailable(error)) (ctx.state as Record<symbol, unknown>)[OUTAGE] = error;
  });
}

function outageOf(ctx: Context): unknown {
  return (ctx.state as Record<symbol, unknown>)[OUTAGE];
}

/**
 * Errors from Gatehouse's own routes (oidc-provider handles its own): the OAuth error as RFC
 * JSON, or as a page for a browser. A backend that cannot be reached, here or inside
 * oidc-provider (see markOutages), is 503 temporarily_unavailable. Anything else unexpected is
 * logged and shown only as server_error, never with its details.
 */
export function errorPages(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (outageOf(ctx) !== undefined) throw outageOf(ctx);
    } catch (caught) {
      const error = (isUnavailable(caught) ? new StorageUnavailable(caught) : caught) as ExposedError;
      const exposed = error.expose === true;
      if (!exposed) logger.error({ err: caught, path: ctx.path, method: ctx.method }, 'request failed');
      const out = exposed
        ? { error: error.message, error_description: error.error_description ?? '' }
        : { error: 'server_error', error_description: 'the request could not be completed' };
      ctx.status = exposed ? (error.statusCode ?? error.status ?? 400) : 500;
      if (ctx.accepts('json', 'html') === 'html') {
        await renderErrorPage(ctx, out, caught);
      } else {
        ctx.body = out;
      }
    }
  };
}
