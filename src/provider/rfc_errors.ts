import type { Middleware } from 'koa';

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
