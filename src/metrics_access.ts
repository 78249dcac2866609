import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';

/**
 * Lets a request through only with `Authorization: Bearer TOKEN`, as Prometheus' `authorization`
 * setting sends it. Otherwise 401 with RFC 6750's challenge (its error only when a token was sent).
 */
export function requireMetricsToken(token: string): Middleware {
  const expected = digest(token);
  return async (ctx, next) => {
    const presented = /^Bearer ([\x21-\x7E]+)$/i.exec(ctx.get('authorization'))?.[1];
    // Digests have one length, so the comparison takes the same time whatever was sent.
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return next();
    ctx.status = 401;
    ctx.set('WWW-Authenticate', `Bearer realm="metrics"${presented === undefined ? '' : ', error="invalid_token"'}`);
    ctx.body = { error: 'invalid_token', error_description: 'send the METRICS_TOKEN as Authorization: Bearer TOKEN' };
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
