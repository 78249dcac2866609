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
    const { AuthorizationCode: code, RefreshToken: refreshToken } = ctx.oidc.entities as { AuthorizationCode?: { grantId?: string }; RefreshToken?: { grantId?: string } };
    const grantId = code?.grantId ?? refreshToken?.grantId;
    // The same event as oidc-provider's own revocation, so the audit log records both in one place.
    if (grantId) void provider.Grant.adapter.destroy(grantId).then(() => provider.emit('grant.revoked', ctx, grantId), () => {});
  });
}
