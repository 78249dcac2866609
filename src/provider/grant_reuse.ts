import type { Provider, KoaContextWithOIDC } from 'oidc-provider';
import { isConcurrentReuse } from '../storage/errors.ts';

/**
 * oidc-provider revokes the grant when a used code or refresh token comes back later, but not
 * when the second use races the first: then the adapter's atomic consume refuses it. Treat that
 * loser the same way (RFC 6749 §4.1.2, RFC 9700 §4.14.2): destroying the Grant makes every
 * token of it inactive, since introspection and refresh check the Grant.
 */
export function revokeGrantOnConcurrentReuse(provider: Provider): void {
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: unknown) => {
    if (!isConcurrentReuse(error)) return;
    void grantOfPresented(provider, ctx).then(async (grantId) => {
      if (!grantId) return;
      await provider.Grant.adapter.destroy(grantId);
      // The same event as oidc-provider's own revocation, so the audit log records both in one place.
      provider.emit('grant.revoked', ctx, grantId);
    }).catch(() => {});
  });
}

/**
 * The grant of the code or refresh token the losing request presented. oidc-provider names a
 * refresh token on the context before consuming it, but a code only after: the loser of a code
 * race never gets that far, so its code is looked up again (it was valid for this client, or the
 * consume would not have been tried).
 */
async function grantOfPresented(provider: Provider, ctx: KoaContextWithOIDC): Promise<string | undefined> {
  const { AuthorizationCode: code, RefreshToken: refreshToken } = ctx.oidc.entities as { AuthorizationCode?: { grantId?: string }; RefreshToken?: { grantId?: string } };
  const named = code?.grantId ?? refreshToken?.grantId;
  if (named) return named;
  const presented = (ctx.oidc.params as { code?: unknown } | undefined)?.code;
  if (typeof presented !== 'string') return undefined;
  return (await provider.AuthorizationCode.find(presented, { ignoreExpiration: true }))?.grantId;
}
