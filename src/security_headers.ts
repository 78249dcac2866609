import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Headers of every response, and the CSP of every page: nothing loads but our stylesheet and
 * https images, no frame may embed us, and forms post only where the page says. The form_post
 * page (provider/form_post_page.ts) names the hash of its one inline script in a CSP of its own
 * when it is rendered; every other page gets `script-src 'none'`.
 */
export const securityHeaders: Middleware = async (ctx, next) => {
  await next();
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  // A plain string test: type-is parsing on every token response costs more than it tells.
  if (ctx.response.type !== 'text/html') return;
  const scripts = String(ctx.response.get('Content-Security-Policy') ?? '').match(/'sha256-[A-Za-z0-9+/=]+'/g) ?? [];
  const formAction = scripts.length ? formPostTarget(ctx) : ["'self'", ...((ctx.state.formActionOrigins as string[] | undefined) ?? [])];
  ctx.set('Content-Security-Policy', [
    "default-src 'none'",
    `script-src ${scripts.length ? scripts.join(' ') : "'none'"}`,
    "style-src 'self'",
    "img-src 'self' https:",
    `form-action ${formAction.length ? formAction.join(' ') : "'none'"}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '));
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cache-Control', 'no-store');
};

/** The form_post page posts to the client's redirect URI (exactly matched by then), nowhere else. */
function formPostTarget(ctx: Parameters<Middleware>[0]): string[] {
  return originOf((ctx as unknown as KoaContextWithOIDC).oidc?.params?.redirect_uri);
}

/** The CSP source of a URL the browser is sent to: its origin, for http(s) only. */
export function originOf(uri: unknown): string[] {
  if (typeof uri !== 'string') return [];
  try {
    const { origin, protocol } = new URL(uri);
    return protocol === 'https:' || protocol === 'http:' ? [origin] : [];
  } catch {
    return [];
  }
}
