import type { Middleware } from 'koa';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';

/**
 * Where oidc-provider's error code differs from the one the RFC names, rename it on the way
 * out. Matched on the library's exact description, so a library change fails our tests
 * rather than passing silently.
 */
const RENAMES: { route: string; from: string; description: string; to: string }[] = [
  // RFC 6749 §5.2: a client using a grant type it is not registered for is unauthorized_client.
  { route: 'token', from: 'invalid_request', description: 'requested grant type is not allowed for this client', to: 'unauthorized_client' },
];

export const rfcErrorCodes: Middleware = async (ctx, next) => {
  await next();
  const body = ctx.body as { error?: string; error_description?: string } | undefined;
  if (!body?.error || ctx.status < 400) return;
  const route = (ctx as { oidc?: { route?: string } }).oidc?.route;
  const rename = RENAMES.find((r) => r.route === route && r.from === body.error && r.description === body.error_description);
  if (rename) ctx.body = { ...body, error: rename.to };
};

/**
 * oidc-provider answers every failed grant with "grant request is invalid" and keeps the reason
 * to itself (error_detail). An expired code or refresh token is worth saying: the client, or a
 * person trying the flow by hand, then knows to start again rather than hunt for a bug.
 */
const TOLD_REASONS: ReadonlySet<string> = new Set(['authorization code is expired', 'refresh token is expired']);

export function sayWhenGrantsExpired(provider: Provider): void {
  // Emitted right after the error body is set, in the same tick.
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: { error_detail?: string }) => {
    const body = ctx.body as Record<string, unknown> | undefined;
    if (body?.error === 'invalid_grant' && error.error_detail && TOLD_REASONS.has(error.error_detail)) {
      ctx.body = { ...body, error_description: error.error_detail };
    }
  });
}
