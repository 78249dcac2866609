import type { KoaContextWithOIDC } from 'oidc-provider';
import { renderInteractionPage } from '../interactions/pages.ts';

/** RP-initiated logout asks before it signs the person out (a link alone must not end a session). */
export async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  await renderInteractionPage(ctx, 'logout', {
    title: 'Sign out?',
    // oidc-provider's own form: action and xsrf token, no script. The buttons submit it.
    form,
    clientName: ctx.oidc.client?.clientName ?? '',
  }, ctx.oidc.params?.post_logout_redirect_uri);
}

export async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  await renderInteractionPage(ctx, 'logged_out', { title: 'Signed out', clientName: ctx.oidc.client?.clientName ?? '' });
}
