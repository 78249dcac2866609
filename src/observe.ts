import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from './log.ts';
import { ERROR_COUNTED, type Metrics } from './metrics.ts';

/**
 * Times every request into the latency histogram, counts error answers by OAuth code, and
 * writes one access log line at info (LOG_LEVEL=warn turns the lines off). The line names the
 * route, never the URL: query strings carry codes, states and tokens, so the path and query
 * are not logged, and neither is any header.
 */
export function observe(metrics: Metrics, logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
      const route = String(oidc?.route ?? (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched');
      const status = ctx.status;
      metrics.requestDuration.observe({ route, method: ctx.method, status: String(status) }, seconds);
      const error = status >= 400 ? (ctx.body as { error?: unknown } | undefined)?.error : undefined;
      if (typeof error === 'string' && !(ctx.state as Record<symbol, boolean>)[ERROR_COUNTED]) metrics.oauthErrors.inc({ route, error });
      if (logger.isLevelEnabled('info')) {
        logger.info({
          event: 'http.request',
          method: ctx.method,
          route,
          status,
          duration_ms: Math.round(seconds * 1e4) / 10,
          client_id: oidc?.client?.clientId,
        }, 'request');
      }
    }
  };
}
