import type { Middleware } from 'koa';
import type { Logger } from './log.ts';
import { renderErrorPage } from './pages.ts';

interface ExposedError {
  expose?: boolean;
  status?: number;
  statusCode?: number;
  message: string;
  error_description?: string;
}

/**
 * Errors from Gatehouse's own routes (oidc-provider handles its own): the OAuth error as RFC
 * JSON, or as a page for a browser. Anything unexpected is logged and shown only as
 * server_error, never with its details.
 */
export function errorPages(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const error = caught as ExposedError;
      const exposed = error.expose === true;
      if (!exposed) logger.error({ err: caught, path: ctx.path, method: ctx.method }, 'request failed');
      const out = exposed
        ? { error: error.message, error_description: error.error_description ?? '' }
        : { error: 'server_error', error_description: 'the request could not be completed' };
      ctx.status = exposed ? (error.statusCode ?? error.status ?? 400) : 500;
      if (ctx.accepts('json', 'html') === 'html') {
        await renderErrorPage(ctx, out);
      } else {
        ctx.body = out;
      }
    }
  };
}
